import { describe, expect, it } from 'vitest'
import {
  COMPACT_IPC_TAG,
  COMPACT_SPOOLED_TAG,
  encodeFrame,
  encodeToGuestFrame,
  FrameDecoder,
} from '../../src/shared/frame-codec.js'

const MESSAGES: unknown[] = [
  { t: 'hello' },
  { t: 'stdout', id: 7, data: new Uint8Array([0, 10, 13, 255]) },
  { t: 'ipc', id: 1, message: { nested: [1, 'two', { three: null }], big: 2n ** 70n, when: new Date(0) } },
  { t: 'exit', id: 3, code: null, signal: 'SIGKILL' },
  'a bare string',
]

/** Every byte of `frames` fed to a fresh decoder in pieces of `size` bytes, and what came out. */
function decodeInPieces(bytes: Buffer, size: number): unknown[] {
  const decoder = new FrameDecoder()
  const values: unknown[] = []
  for (let offset = 0; offset < bytes.length; offset += size) {
    values.push(...decoder.push(bytes.subarray(offset, offset + size)))
  }
  return values
}

describe('frames', () => {
  it('carry values through encode and decode unchanged', () => {
    for (const message of MESSAGES) expect(new FrameDecoder().push(encodeFrame(message))).toEqual([message])
  })

  it('start with the payload length, big-endian', () => {
    const frame = encodeFrame({ t: 'hello' })
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4)
  })

  it('come out whole and in order however the stream is cut: one chunk, byte by byte, or across frames', () => {
    const stream = Buffer.concat(MESSAGES.map((message) => encodeFrame(message)))
    for (const size of [stream.length, 1, 2, 3, 5, 64]) expect(decodeInPieces(stream, size)).toEqual(MESSAGES)
  })

  it('keep a large frame arriving in many chunks intact', () => {
    const data = Buffer.alloc(1024 * 1024, 'vitest-uml')
    const [value, ...rest] = decodeInPieces(encodeFrame({ t: 'stdout', id: 1, data }), 8191) as { data: Uint8Array }[]
    expect(rest).toEqual([])
    // Compared as bytes: a deep equality walks a megabyte element by element.
    expect(Buffer.from(value!.data).equals(data)).toBe(true)
  })

  it('hold back a partial frame until the rest arrives', () => {
    const frame = encodeFrame({ t: 'hello' })
    const decoder = new FrameDecoder()
    expect(decoder.push(frame.subarray(0, 2))).toEqual([])
    expect(decoder.push(frame.subarray(2, frame.length - 1))).toEqual([])
    expect(decoder.push(frame.subarray(frame.length - 1))).toEqual([{ t: 'hello' }])
  })

  it('refuse a length no real frame has: the stream is out of step or written by an attacker', () => {
    const header = Buffer.alloc(4)
    header.writeUInt32BE(0xffffffff)
    expect(() => new FrameDecoder().push(header)).toThrow()
  })
})

describe('frames to the guest', () => {
  it('carry an IPC message as its tag, the process id and Node’s bytes, far shorter than its V8 form', () => {
    const bytes = new Uint8Array([255, 15, 111, 123, 0])
    const frame = encodeToGuestFrame({ t: 'ipc', id: 0x01020304, bytes })
    expect([...frame]).toEqual([0, 0, 0, 10, COMPACT_IPC_TAG, 1, 2, 3, 4, ...bytes])
    expect(encodeFrame({ t: 'ipc', id: 0x01020304, bytes }).length - frame.length).toBeGreaterThan(20)
  })

  it('announce a spooled frame by its tag and sequence number', () => {
    expect([...encodeToGuestFrame({ t: 'spooled', seq: 258 })]).toEqual([0, 0, 0, 5, COMPACT_SPOOLED_TAG, 0, 0, 1, 2])
  })

  it('carry every other message as a V8 value, whose first byte is no compact tag', () => {
    const frame = encodeToGuestFrame({ t: 'signal', id: 2, signal: 'SIGTERM' })
    expect(new FrameDecoder().push(frame)).toEqual([{ t: 'signal', id: 2, signal: 'SIGTERM' }])
    expect([COMPACT_IPC_TAG, COMPACT_SPOOLED_TAG]).not.toContain(frame[4])
  })
})
