export {
  encodeFrame,
  encodeToGuestFrame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  MAX_GUEST_FRAME_BYTES,
} from './frame-codec.js'
export * from './messages.js'
export { OS_RELEASE_PATHS, parseOsRelease } from './os-release.js'
export { shellQuote } from './shell-quote.js'
