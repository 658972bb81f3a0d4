import { spawn } from 'node:child_process'
import type { Duplex } from 'node:stream'
import { expect, it } from 'vitest'
import { decodeIpcMessage, encodeIpcMessage } from '../../../src/host/guest/ipc-codec.js'

/** Node's IPC framing on the wire: a 4-byte big-endian length, then the serialized message. */
function framed(payload: Buffer): Buffer {
  const header = Buffer.alloc(4)
  header.writeUInt32BE(payload.length)
  return Buffer.concat([header, payload])
}

it('speaks Node’s own IPC serialization with a real child process, both ways', async () => {
  // The child's channel is descriptor 3, as the agent gives a forked process in the guest.
  const child = spawn(
    process.execPath,
    [
      '-e',
      "process.on('message', (m) => { process.send({ echo: m, made: { buf: Buffer.from('hi'), u8: new Uint8Array([1, 2, 3]), when: new Date(0) } }); process.disconnect() })",
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, NODE_CHANNEL_FD: '3', NODE_CHANNEL_SERIALIZATION_MODE: 'advanced' },
    },
  )
  const channel = child.stdio[3] as Duplex
  const sent = { text: 'é€', bytes: Buffer.from([7, 8]), floats: new Float64Array([1.5]), map: new Map([[1, 'a']]) }
  channel.write(framed(encodeIpcMessage(sent)))
  const chunks: Buffer[] = []
  for await (const chunk of channel) chunks.push(chunk as Buffer)
  const all = Buffer.concat(chunks)
  const length = all.readUInt32BE(0)
  expect(all.length).toBe(4 + length)
  expect(decodeIpcMessage(all.subarray(4))).toEqual({
    echo: sent,
    made: { buf: Buffer.from('hi'), u8: new Uint8Array([1, 2, 3]), when: new Date(0) },
  })
})

it('refuses bytes that are not a serialized message', () => {
  expect(() => decodeIpcMessage(Buffer.from([255, 15, 92, 7]))).toThrow()
  expect(() => decodeIpcMessage(Buffer.from([1, 2, 3]))).toThrow()
})
