import { deserialize, serialize } from 'node:v8'

/** Frames are a 4-byte big-endian payload length, then a V8-serialized value. */
const HEADER_BYTES = 4
/** A frame larger than this means the stream is out of step (or corrupt), not a real message. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024

/**
 * Largest frame the host takes from a guest (whose code may be hostile): a frame is buffered whole
 * before it is decoded, so this bounds what one guest can make the host hold. Coverage data of a
 * test file is the largest legitimate message.
 */
export const MAX_GUEST_FRAME_BYTES = 64 * 1024 * 1024

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

  constructor(private readonly maxFrameBytes = MAX_FRAME_BYTES) {}

  /** Feeds bytes; returns every value completed by them, in order. */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk)
    this.size += chunk.length
    const values: unknown[] = []
    for (;;) {
      if (this.frameLength === undefined) {
        if (this.size < HEADER_BYTES) break
        this.frameLength = this.joined().readUInt32BE(0)
        if (this.frameLength > this.maxFrameBytes) {
          throw new Error(`a frame of ${this.frameLength} bytes, over the limit of ${this.maxFrameBytes}`)
        }
      }
      const end = HEADER_BYTES + this.frameLength
      if (this.size < end) break
      // Joined once per completed frame, so a large frame arriving in many chunks stays linear.
      const all = this.joined()
      values.push(decodePayload(all.subarray(HEADER_BYTES, end)))
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

function decodePayload(payload: Buffer): unknown {
  try {
    return deserialize(payload)
  } catch (error) {
    throw new Error(`a frame that does not decode (${(error as Error).message})`)
  }
}
