export { encodeFrame, FrameDecoder, MAX_FRAME_BYTES } from './frame-codec.js'
export * from './messages.js'
