import { deserialize, serialize } from 'node:v8'

/** Frames are a 4-byte big-endian payload length, then a V8-serialized value. */
const HEADER_BYTES = 4
/** A frame larger than this means the stream is out of step (or corrupt), not a real message. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024

export function encodeFrame(value: unknown): Buffer {
  const payload = serialize(value)
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length)
  frame.writeUInt32BE(payload.length, 0)
  payload.copy(frame, HEADER_BYTES)
  return frame
}

/** Turns a byte stream back into values, however the bytes were split into chunks. */
export class FrameDecoder {
  private chunks: Buffer[] = []
  private size = 0
  private frameLength: number | undefined

  /** Feeds bytes; returns every value completed by them, in order. */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk)
    this.size += chunk.length
    const values: unknown[] = []
    for (;;) {
      if (this.frameLength === undefined) {
        if (this.size < HEADER_BYTES) break
        this.frameLength = this.joined().readUInt32BE(0)
        if (this.frameLength > MAX_FRAME_BYTES) {
          throw new Error(`A frame of ${this.frameLength} bytes exceeds the limit: the channel is out of step`)
        }
      }
      const end = HEADER_BYTES + this.frameLength
      if (this.size < end) break
      // Joined once per completed frame, so a large frame arriving in many chunks stays linear.
      const all = this.joined()
      values.push(deserialize(all.subarray(HEADER_BYTES, end)))
      const rest = all.subarray(end)
      this.chunks = rest.length > 0 ? [rest] : []
      this.size = rest.length
      this.frameLength = undefined
    }
    return values
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0]!
  }
}
