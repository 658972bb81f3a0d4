import { EventEmitter } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import {
  type AckMessage,
  type AgentMessage,
  encodeToGuestFrame,
  type ForkIpcMessage,
  FrameDecoder,
  HOST_TO_GUEST_WINDOW_BYTES,
  type HostMessage,
  MAX_FRAME_BYTES,
  MAX_GUEST_FRAME_BYTES,
  SPOOL_MIN_FRAME_BYTES,
} from '../../shared/index.js'
import { isWallOff } from '../core/index.js'
import { isAgentMessage } from './agent-messages.js'
import { decodeIpcMessage, encodeIpcMessage, isNodeInternalMessage } from './ipc-codec.js'

/** Bytes and frames carried each way since the channel opened (for `pnpm bench`). */
export interface ChannelCounters {
  bytesToGuest: number
  bytesFromGuest: number
  framesToGuest: number
  framesFromGuest: number
}

/** What the guest sent that no agent sends: a malformed or oversized frame, a message of the wrong shape. */
export class ChannelViolation extends Error {}

/** An IPC message of a forked process, decoded (on the line it is Node's serialization of it). */
export interface IpcValueMessage {
  t: 'ipc'
  id: number
  message: unknown
}

/** What the channel takes to send, and what it emits. */
export type ToGuestMessage = Exclude<HostMessage, ForkIpcMessage> | IpcValueMessage
export type FromGuestMessage = Exclude<AgentMessage, ForkIpcMessage | AckMessage> | IpcValueMessage

interface HostChannelEvents {
  message: [FromGuestMessage]
  /** The channel failed (a ChannelViolation when the guest broke the protocol); it is closed. */
  error: [Error]
  close: []
}

/**
 * The host's end of a guest's serial line. Frames from the agent are decoded, checked and
 * emitted (frames are capped, so a guest can make the host hold at most one frame's worth);
 * frames to the agent are cut into pieces that keep at most HOST_TO_GUEST_WINDOW_BYTES
 * unacknowledged, because UML's serial driver drops bytes it has no room for. Large frames to the
 * agent go through files in `spoolDir` (the guest's GUEST_SPOOL_DIR), announced on the line.
 */
export class HostChannel extends EventEmitter<HostChannelEvents> {
  /** Switched off for the escape suite's controls (see WALL_OFF_VARIABLE). */
  private readonly checked = !isWallOff()
  private readonly decoder = new FrameDecoder(this.checked ? MAX_GUEST_FRAME_BYTES : MAX_FRAME_BYTES)
  private readonly queue: Buffer[] = []
  private inFlight = 0
  private closed = false
  /** Spool files the agent has not yet read, oldest first. */
  private readonly spooled: number[] = []
  private nextSpoolSeq = 0
  readonly counters: ChannelCounters = { bytesToGuest: 0, bytesFromGuest: 0, framesToGuest: 0, framesFromGuest: 0 }

  constructor(
    private readonly fromGuest: Readable,
    private readonly toGuest: Writable,
    private readonly spoolDir?: string,
  ) {
    super()
    toGuest.on('error', () => this.close())
  }

  /**
   * Starts reading from the guest. Call it once the listeners are on: a message with no listener
   * is lost (until then what the guest sends waits in the stream).
   */
  start(): void {
    if (this.fromGuest.listenerCount('data') > 0) return
    this.fromGuest.on('data', (chunk: Buffer) => this.receive(chunk))
    this.fromGuest.on('close', () => this.close())
    this.fromGuest.on('error', () => this.close())
  }

  send(message: ToGuestMessage): void {
    if (this.closed) return
    const frame = encodeToGuestFrame(
      message.t === 'ipc'
        ? ({ t: 'ipc', id: message.id, bytes: encodeIpcMessage(message.message) } satisfies HostMessage)
        : message,
    )
    this.counters.bytesToGuest += frame.length
    this.counters.framesToGuest++
    try {
      this.queue.push(this.spoolDir && frame.length >= SPOOL_MIN_FRAME_BYTES ? this.spool(frame, this.spoolDir) : frame)
    } catch (error) {
      this.emit('error', error as Error)
      this.close()
      return
    }
    this.pump()
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.queue.length = 0
    this.toGuest.destroy()
    this.emit('close')
  }

  /** Writes a frame to the next spool file, and returns the frame that announces it. */
  private spool(frame: Buffer, dir: string): Buffer {
    const seq = this.nextSpoolSeq++
    // Synchronously, so the file is complete before its announcement can reach the guest.
    writeFileSync(join(dir, String(seq)), frame)
    this.spooled.push(seq)
    return encodeToGuestFrame({ t: 'spooled', seq })
  }

  /** Deletes the files of spooled frames the agent has read (it reads them in order). */
  private releaseSpooled(count: number): void {
    for (const seq of this.spooled.splice(0, count)) rmSync(join(this.spoolDir as string, String(seq)), { force: true })
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return
    this.counters.bytesFromGuest += chunk.length
    let messages: unknown[]
    try {
      messages = this.decoder.push(chunk)
    } catch (error) {
      this.fail((error as Error).message)
      return
    }
    this.counters.framesFromGuest += messages.length
    for (const message of messages) {
      if (this.closed) return
      if (this.checked && !isAgentMessage(message)) {
        this.fail('a message of no known shape')
        return
      }
      const agentMessage = message as AgentMessage
      if (agentMessage.t === 'ack') {
        if (this.checked && agentMessage.bytes > this.inFlight) {
          this.fail('an acknowledgement of bytes never sent')
          return
        }
        this.inFlight -= agentMessage.bytes
        if (agentMessage.spooled) this.releaseSpooled(agentMessage.spooled)
        this.pump()
      } else if (agentMessage.t === 'ipc') {
        let value: unknown
        try {
          value = decodeIpcMessage(agentMessage.bytes)
        } catch (error) {
          this.fail(`an IPC message that does not decode (${(error as Error).message})`)
          return
        }
        if (!isNodeInternalMessage(value)) this.emit('message', { t: 'ipc', id: agentMessage.id, message: value })
      } else {
        this.emit('message', agentMessage)
      }
    }
  }

  private fail(what: string): void {
    this.emit('error', new ChannelViolation(what))
    this.close()
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
