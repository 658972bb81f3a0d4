import type { Guest } from '../guest/index.js'
import { recordFileStats } from './timings.js'
import { isRpcRequest, isRpcResponse } from './vitest-internals.js'

/**
 * What one test file cost on the channel and in the guest, for `pnpm bench`: RPC round trips the
 * worker made to the host (Vite's module fetches among them) and how long each took from the
 * host's side of the channel, bytes each way, the guest's CPU time and the host time the RPC
 * wall's checks took. Only built while
 * VITEST_UML_TIMINGS is set.
 */
export class FileStats {
  private readonly pending = new Map<string, number>()
  private readonly rpcMs: number[] = []
  private readonly startBytes: { toGuest: number; fromGuest: number }
  private readonly started = performance.now()
  private readonly startCpuMs: Promise<number>
  private wallChecksMs = 0

  constructor(private readonly guest: Guest) {
    const counters = guest.channelCounters
    this.startBytes = { toGuest: counters.bytesToGuest, fromGuest: counters.bytesFromGuest }
    this.startCpuMs = guest.cpuMs()
  }

  /** A message from the worker: an RPC request starts a round trip. */
  fromWorker(message: unknown): void {
    if (isRpcRequest(message) && typeof message.i === 'string') this.pending.set(message.i, performance.now())
  }

  /** A message to the worker: a response ends the round trip it answers. */
  toWorker(message: unknown): void {
    if (!isRpcResponse(message)) return
    const started = this.pending.get(message.i)
    if (started === undefined) return
    this.pending.delete(message.i)
    this.rpcMs.push(performance.now() - started)
  }

  /** Runs one of the RPC wall's checks, adding the host time it took to the file's. */
  timeWallCheck<T>(check: () => T): T {
    const started = performance.now()
    try {
      return check()
    } finally {
      this.wallChecksMs += performance.now() - started
    }
  }

  async finish(): Promise<void> {
    const counters = this.guest.channelCounters
    recordFileStats({
      wallMs: performance.now() - this.started,
      rpcMs: this.rpcMs,
      bytesToGuest: counters.bytesToGuest - this.startBytes.toGuest,
      bytesFromGuest: counters.bytesFromGuest - this.startBytes.fromGuest,
      guestCpuMs: (await this.guest.cpuMs()) - (await this.startCpuMs),
      wallChecksMs: this.wallChecksMs,
    })
  }
}
