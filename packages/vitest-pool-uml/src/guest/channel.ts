import { spawnSync } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import { ReadStream, WriteStream } from 'node:tty'
import { type AgentMessage, encodeFrame, FrameDecoder, GUEST_SPOOL_DIR, type HostMessage } from '../shared/index.js'

export interface AgentChannel {
  send(message: AgentMessage): void
  onMessage(listener: (message: HostMessage) => void): void
  close(): void
}

/**
 * Opens the guest's private serial line to the host in raw mode (no echo, no line editing, no
 * byte translation) and speaks frames over it. Every chunk read is acknowledged, which is the
 * host's cue to send more (see HOST_TO_GUEST_WINDOW_BYTES). Large frames from the host arrive as
 * `spooled` announcements: the frame itself is read from the spool file they name.
 */
export function openAgentChannel(device: string): AgentChannel {
  // stty rather than setRawMode: libuv's raw mode keeps ONLCR, which turns 0x0a into 0x0d 0x0a.
  const stty = spawnSync('stty', ['-F', device, 'raw', '-echo'], { encoding: 'utf8' })
  if (stty.status !== 0) throw new Error(`stty could not make ${device} raw: ${stty.stderr || stty.error?.message}`)
  const input = new ReadStream(openSync(device, 'r'))
  const output = new WriteStream(openSync(device, 'w'))
  const decoder = new FrameDecoder()
  const spoolDecoder = new FrameDecoder()
  const listeners: Array<(message: HostMessage) => void> = []
  const send = (message: AgentMessage) => {
    output.write(encodeFrame(message))
  }
  input.on('data', (chunk: Buffer) => {
    let spooled = 0
    // Spool files are read before the ack, which lets the host delete them.
    const messages = (decoder.push(chunk) as HostMessage[]).flatMap((message) => {
      if (message.t !== 'spooled') return [message]
      spooled++
      return spoolDecoder.push(readFileSync(`${GUEST_SPOOL_DIR}/${message.seq}`)) as HostMessage[]
    })
    send(spooled > 0 ? { t: 'ack', bytes: chunk.length, spooled } : { t: 'ack', bytes: chunk.length })
    for (const message of messages) {
      for (const listener of listeners) listener(message)
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
