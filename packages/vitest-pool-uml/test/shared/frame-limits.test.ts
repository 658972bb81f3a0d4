import { readFile } from 'node:fs/promises'
import { serialize } from 'node:v8'
import { expect, it } from 'vitest'
import { encodeFrame, FrameDecoder } from '../../src/shared/frame-codec.js'
import { HOST_TO_GUEST_WINDOW_BYTES } from '../../src/shared/messages.js'

it('refuses a frame over its limit at the header, before buffering it', () => {
  const decoder = new FrameDecoder(1024)
  const header = Buffer.alloc(4)
  header.writeUInt32BE(2048)
  expect(() => decoder.push(header)).toThrow('a frame of 2048 bytes, over the limit of 1024')
  expect(() => new FrameDecoder(1024).push(Buffer.from([255, 255, 255, 255]))).toThrow(/over the limit/)
})

it('says a payload that is not V8 serialization does not decode', () => {
  const garbage = Buffer.from([0, 0, 0, 4, 255, 255, 255, 255])
  expect(() => new FrameDecoder().push(garbage)).toThrow(/a frame that does not decode/)
})

it('decodes frames up to the limit, however they are split', () => {
  const value = { t: 'ipc', id: 1, message: 'x'.repeat(900) }
  const frame = encodeFrame(value)
  expect(serialize(value).length + 4).toBe(frame.length)
  const decoder = new FrameDecoder(frame.length - 4)
  expect(decoder.push(frame.subarray(0, 3))).toEqual([])
  expect(decoder.push(frame.subarray(3))).toEqual([value])
})

it("acknowledges line input before the host's window is full (agent.c's ACK_AFTER_BYTES)", async () => {
  // Above the window the host would wait for an acknowledgement the agent never sends.
  const agent = await readFile(new URL('../../src/guest/agent.c', import.meta.url), 'utf8')
  const ackAfter = Number(/^#define ACK_AFTER_BYTES (\d+)$/m.exec(agent)?.[1])
  expect(ackAfter).toBeGreaterThan(0)
  expect(ackAfter).toBeLessThanOrEqual(HOST_TO_GUEST_WINDOW_BYTES / 2)
})
