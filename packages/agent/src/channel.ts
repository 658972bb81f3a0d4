import { spawnSync } from 'node:child_process'
import { openSync } from 'node:fs'
import { ReadStream, WriteStream } from 'node:tty'
import { type AgentMessage, encodeFrame, FrameDecoder, type HostMessage } from '@vitest-uml/protocol'

export interface AgentChannel {
  send(message: AgentMessage): void
  onMessage(listener: (message: HostMessage) => void): void
  close(): void
}

/**
 * Opens the guest's private serial line to the host in raw mode (no echo, no line editing, no
 * byte translation) and speaks frames over it. Every chunk read is acknowledged, which is the
 * host's cue to send more (see HOST_TO_GUEST_WINDOW_BYTES).
 */
export function openAgentChannel(device: string): AgentChannel {
  // stty rather than setRawMode: libuv's raw mode keeps ONLCR, which turns 0x0a into 0x0d 0x0a.
  const stty = spawnSync('stty', ['-F', device, 'raw', '-echo'], { encoding: 'utf8' })
  if (stty.status !== 0) throw new Error(`stty could not make ${device} raw: ${stty.stderr || stty.error?.message}`)
  const input = new ReadStream(openSync(device, 'r'))
  const output = new WriteStream(openSync(device, 'w'))
  const decoder = new FrameDecoder()
  const listeners: Array<(message: HostMessage) => void> = []
  const send = (message: AgentMessage) => {
    output.write(encodeFrame(message))
  }
  input.on('data', (chunk: Buffer) => {
    send({ t: 'ack', bytes: chunk.length })
    for (const message of decoder.push(chunk)) {
      for (const listener of listeners) listener(message as HostMessage)
    }
  })
  return {
    send,
    onMessage(listener) {
      listeners.push(listener)
    },
    close() {
      input.destroy()
      output.end()
    },
  }
}
