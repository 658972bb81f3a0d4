import { PassThrough } from 'node:stream'
import { setImmediate as tick } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { type FromGuestMessage, HostChannel } from '../../../src/host/guest/host-channel.js'
import { type AgentMessage, encodeFrame, FrameDecoder, HOST_TO_GUEST_WINDOW_BYTES } from '../../../src/shared/index.js'

/** A channel over in-memory streams, with what it emitted and every byte it wrote towards the guest. */
function openChannel() {
  const fromGuest = new PassThrough()
  const toGuest = new PassThrough()
  const written: Buffer[] = []
  toGuest.on('data', (chunk: Buffer) => written.push(chunk))
  const channel = new HostChannel(fromGuest, toGuest)
  const received: FromGuestMessage[] = []
  const errors: Error[] = []
  let closed = 0
  channel.on('message', (message) => received.push(message))
  channel.on('error', (error) => errors.push(error))
  channel.on('close', () => closed++)
  channel.start()
  const guestSends = (message: AgentMessage) => fromGuest.write(encodeFrame(message))
  return { channel, fromGuest, toGuest, written, received, errors, closed: () => closed, guestSends }
}

const bytes = (chunks: Buffer[]) => chunks.reduce((sum, chunk) => sum + chunk.length, 0)

describe('HostChannel', () => {
  it('emits the agent’s messages in order, however the serial line cut them', async () => {
    const { fromGuest, received } = openChannel()
    const stream = Buffer.concat([
      encodeFrame({ t: 'hello' }),
      encodeFrame({ t: 'ready', kernelRelease: '7.2.7', osRelease: 'ID=debian\n' }),
    ])
    for (const byte of stream) fromGuest.write(Buffer.from([byte]))
    await tick()
    expect(received).toEqual([{ t: 'hello' }, { t: 'ready', kernelRelease: '7.2.7', osRelease: 'ID=debian\n' }])
  })

  it('holds what the guest sent before it starts, for the listeners put on meanwhile', async () => {
    const fromGuest = new PassThrough()
    const channel = new HostChannel(fromGuest, new PassThrough())
    fromGuest.write(encodeFrame({ t: 'hello' }))
    await tick()
    const received: FromGuestMessage[] = []
    channel.on('message', (message) => received.push(message))
    channel.start()
    await tick()
    expect(received).toEqual([{ t: 'hello' }])
  })

  it('keeps at most the window unacknowledged towards the guest, and sends on as the agent acknowledges', async () => {
    const { channel, written, received, guestSends } = openChannel()
    const argv = ['sh', '-c', 'x'.repeat(3 * HOST_TO_GUEST_WINDOW_BYTES)]
    channel.send({ t: 'exec', id: 1, argv })
    await tick()
    expect(bytes(written)).toBe(HOST_TO_GUEST_WINDOW_BYTES)

    let acknowledged = 0
    while (bytes(written) < encodeFrame({ t: 'exec', id: 1, argv }).length) {
      const sent = bytes(written)
      guestSends({ t: 'ack', bytes: sent - acknowledged })
      acknowledged = sent
      await tick()
      expect(bytes(written) - acknowledged).toBeLessThanOrEqual(HOST_TO_GUEST_WINDOW_BYTES)
      expect(bytes(written)).toBeGreaterThan(sent)
    }
    // Acknowledgements are the channel's own business, not messages.
    expect(received).toEqual([])
    expect(new FrameDecoder().push(Buffer.concat(written))).toEqual([{ t: 'exec', id: 1, argv }])
  })

  it('sends small messages back to back within the window, in order', async () => {
    const { channel, written } = openChannel()
    channel.send({ t: 'signal', id: 1, signal: 'SIGTERM' })
    channel.send({ t: 'shutdown' })
    await tick()
    expect(new FrameDecoder().push(Buffer.concat(written))).toEqual([
      { t: 'signal', id: 1, signal: 'SIGTERM' },
      { t: 'shutdown' },
    ])
  })

  it('closes once when the guest’s side ends, and drops what is sent after', async () => {
    const { channel, fromGuest, written, closed } = openChannel()
    fromGuest.destroy()
    await tick()
    expect(closed()).toBe(1)
    channel.send({ t: 'shutdown' })
    channel.close()
    await tick()
    expect(closed()).toBe(1)
    expect(written).toEqual([])
  })

  it('reports garbage from the guest as an error and closes', async () => {
    const { fromGuest, toGuest, errors, closed } = openChannel()
    const header = Buffer.alloc(4)
    header.writeUInt32BE(0xffffffff)
    fromGuest.write(header)
    await tick()
    expect(errors).toHaveLength(1)
    expect(closed()).toBe(1)
    expect(toGuest.destroyed).toBe(true)
  })
})
