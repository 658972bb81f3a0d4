import { deserialize, serialize } from 'node:v8'
import type { HostMessage } from './messages.js'

/** Frames are a 4-byte big-endian payload length, then a V8-serialized value (or a compact one, see COMPACT_IPC_TAG). */
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

/**
 * The first byte of a compact frame's payload (a V8-serialized one always starts with 0xFF). The
 * line costs about 2.5 us a byte towards the guest (UML reads it a byte per host read()), and the
 * two messages that are most of that traffic need few: a forked process's IPC message is the tag,
 * the process's id (4 bytes, big-endian) and the message as Node serializes it; a spooled frame's
 * announcement is the tag and the file's sequence number (4 bytes). The agent reads them (agent.c).
 */
export const COMPACT_IPC_TAG = 1
export const COMPACT_SPOOLED_TAG = 2
const COMPACT_HEADER_BYTES = 5

/** A frame to the guest: the compact form for an IPC message or a spooled frame's announcement. */
export function encodeToGuestFrame(message: HostMessage): Buffer {
  if (message.t === 'ipc') return compactFrame(COMPACT_IPC_TAG, message.id, message.bytes)
  if (message.t === 'spooled') return compactFrame(COMPACT_SPOOLED_TAG, message.seq)
  return encodeFrame(message)
}

/** Written in place: an IPC message's bytes are copied once, straight into the frame. */
function compactFrame(tag: number, number: number, bytes: Uint8Array = new Uint8Array()): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + COMPACT_HEADER_BYTES + bytes.length)
  frame.writeUInt32BE(COMPACT_HEADER_BYTES + bytes.length, 0)
  frame.writeUInt8(tag, HEADER_BYTES)
  frame.writeUInt32BE(number, HEADER_BYTES + 1)
  frame.set(bytes, HEADER_BYTES + COMPACT_HEADER_BYTES)
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
