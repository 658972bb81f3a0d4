import { EventEmitter } from 'node:events'
import type { Readable, Writable } from 'node:stream'
import {
  type AgentMessage,
  encodeFrame,
  FrameDecoder,
  HOST_TO_GUEST_WINDOW_BYTES,
  type HostMessage,
} from '@vitest-uml/protocol'

interface HostChannelEvents {
  message: [AgentMessage]
  error: [Error]
  close: []
}

/**
 * The host's end of a guest's serial line. Frames from the agent are decoded and emitted;
 * frames to the agent are cut into pieces that keep at most HOST_TO_GUEST_WINDOW_BYTES
 * unacknowledged, because UML's serial driver drops bytes it has no room for.
 */
export class HostChannel extends EventEmitter<HostChannelEvents> {
  private readonly decoder = new FrameDecoder()
  private readonly queue: Buffer[] = []
  private inFlight = 0
  private closed = false

  constructor(
    fromGuest: Readable,
    private readonly toGuest: Writable,
  ) {
    super()
    fromGuest.on('data', (chunk: Buffer) => this.receive(chunk))
    fromGuest.on('close', () => this.close())
    fromGuest.on('error', () => this.close())
    toGuest.on('error', () => this.close())
  }

  send(message: HostMessage): void {
    if (this.closed) return
    this.queue.push(encodeFrame(message))
    this.pump()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.queue.length = 0
    this.toGuest.destroy()
    this.emit('close')
  }

  private receive(chunk: Buffer): void {
    let messages: unknown[]
    try {
      messages = this.decoder.push(chunk)
    } catch (error) {
      this.emit('error', error as Error)
      this.close()
      return
    }
    for (const message of messages as AgentMessage[]) {
      if (message.t === 'ack') {
        this.inFlight -= message.bytes
        this.pump()
      } else {
        this.emit('message', message)
      }
    }
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.inFlight < HOST_TO_GUEST_WINDOW_BYTES) {
      const head = this.queue[0]!
      const room = HOST_TO_GUEST_WINDOW_BYTES - this.inFlight
      const piece = head.subarray(0, room)
      if (piece.length === head.length) this.queue.shift()
      else this.queue[0] = head.subarray(room)
      this.inFlight += piece.length
      this.toGuest.write(piece)
    }
  }
}
