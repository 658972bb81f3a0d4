import { PassThrough } from 'node:stream'
import { expect, it } from 'vitest'
import { isAgentMessage } from '../../../src/host/guest/agent-messages.js'
import { HostChannel } from '../../../src/host/guest/host-channel.js'
import { encodeIpcMessage } from '../../../src/host/guest/ipc-codec.js'
import { encodeFrame, HOST_TO_GUEST_WINDOW_BYTES, MAX_GUEST_FRAME_BYTES } from '../../../src/shared/index.js'

/** A host channel over in-memory streams: what the guest writes, and what the host sends. */
function channel() {
  const fromGuest = new PassThrough()
  const toGuest = new PassThrough()
  const host = new HostChannel(fromGuest, toGuest)
  const messages: unknown[] = []
  const errors: Error[] = []
  host.on('message', (message) => messages.push(message))
  host.on('error', (error) => errors.push(error))
  host.start()
  return { host, fromGuest, toGuest, messages, errors }
}

const header = (length: number) => {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(length)
  return bytes
}

it('passes on well-formed agent messages', () => {
  const { fromGuest, messages, errors } = channel()
  fromGuest.write(encodeFrame({ t: 'stdout', id: 1, data: new Uint8Array([104, 105]) }))
  expect(messages).toEqual([{ t: 'stdout', id: 1, data: new Uint8Array([104, 105]) }])
  expect(errors).toEqual([])
})

it.each([
  ['a frame over the guest limit', header(MAX_GUEST_FRAME_BYTES + 1), /over the limit/],
  ['a frame claiming 4 GiB', header(0xffffffff), /over the limit/],
  ['a payload that does not decode', Buffer.concat([header(4), Buffer.from([255, 255, 255, 255])]), /does not decode/],
  ['a message of the wrong shape', encodeFrame({ t: 'stdout', id: 1, data: 42 }), /no known shape/],
  ['a message of no known type', encodeFrame({ t: 'pwn' }), /no known shape/],
  ['an acknowledgement of bytes never sent', encodeFrame({ t: 'ack', bytes: 10 }), /never sent/],
  [
    'an IPC message that does not decode',
    encodeFrame({ t: 'ipc', id: 1, bytes: Buffer.from([255, 15, 92, 7]) }),
    /IPC message that does not decode/,
  ],
])('stops at %s: an error, then nothing more', (_, bytes, error) => {
  const { host, fromGuest, messages, errors } = channel()
  let closed = false
  host.on('close', () => {
    closed = true
  })
  fromGuest.write(bytes)
  fromGuest.write(encodeFrame({ t: 'hello' }))
  expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(error)])
  expect(messages).toEqual([])
  expect(closed).toBe(true)
})

it('decodes a forked process’s IPC messages as Node serializes them, and keeps Node’s own from listeners', () => {
  const { fromGuest, messages, errors } = channel()
  const sent = { t: 'q', data: new Uint8Array([1, 2]), nested: [{ at: new Date(0) }] }
  fromGuest.write(encodeFrame({ t: 'ipc', id: 3, bytes: encodeIpcMessage({ cmd: 'NODE_HANDLE_ACK' }) }))
  fromGuest.write(encodeFrame({ t: 'ipc', id: 3, bytes: encodeIpcMessage(sent) }))
  expect(messages).toEqual([{ t: 'ipc', id: 3, message: sent }])
  expect(errors).toEqual([])
})

it('keeps at most a window of bytes unacknowledged towards the guest', () => {
  const { host, fromGuest, toGuest } = channel()
  host.send({ t: 'ipc', id: 1, message: 'x'.repeat(3 * HOST_TO_GUEST_WINDOW_BYTES) })
  const sent = () => toGuest.readableLength as number
  expect(sent()).toBe(HOST_TO_GUEST_WINDOW_BYTES)
  fromGuest.write(encodeFrame({ t: 'ack', bytes: HOST_TO_GUEST_WINDOW_BYTES }))
  expect(sent()).toBe(2 * HOST_TO_GUEST_WINDOW_BYTES)
})

it('knows the shape of each agent message', () => {
  expect(isAgentMessage({ t: 'ready', kernelRelease: '7.2.7', osRelease: 'ID=debian\n' })).toBe(true)
  expect(isAgentMessage({ t: 'ready', kernelRelease: '7.2.7', osRelease: { ID: 'debian' } })).toBe(false)
  expect(isAgentMessage({ t: 'ipc', id: 1, bytes: new Uint8Array(1) })).toBe(true)
  expect(isAgentMessage({ t: 'ipc', id: 1, message: 'x' })).toBe(false)
  expect(isAgentMessage({ t: 'exit', id: 2, code: null, signal: 'SIGKILL' })).toBe(true)
  expect(isAgentMessage({ t: 'exit', id: 0, code: 0, signal: null })).toBe(false)
  expect(isAgentMessage({ t: 'toString' })).toBe(false)
})
