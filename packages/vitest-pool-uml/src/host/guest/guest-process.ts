import { EventEmitter } from 'node:events'

interface GuestProcessEvents {
  message: [unknown]
  stdout: [Uint8Array]
  stderr: [Uint8Array]
  /** The process ended (code or signal), or the guest failed under it (error). */
  exit: [{ code: number | null; signal: string | null; error?: Error }]
}

/** A Node process forked inside a guest, with an IPC channel to the host (see Guest.fork). */
export class GuestProcess extends EventEmitter<GuestProcessEvents> {
  exitCode: number | null = null
  exited = false

  constructor(
    private readonly deliver: (message: unknown) => void,
    private readonly sendSignal: (signal: NodeJS.Signals) => void,
  ) {
    super()
    this.once('exit', ({ code }) => {
      this.exited = true
      this.exitCode = code
    })
  }

  /** Sends a message to the process (it arrives through process.on('message')). */
  send(message: unknown): void {
    if (!this.exited) this.deliver(message)
  }

  /** Signals the process; SIGTERM is followed by SIGKILL if it does not exit promptly. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.exited) this.sendSignal(signal)
  }
}
