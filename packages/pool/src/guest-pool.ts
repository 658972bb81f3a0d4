import { setTimeout as delay } from 'node:timers/promises'
import type { Guest, GuestProcess } from '@vitest-uml/guest'

/** Warm guests found dead that one lease skips before it hands one out. */
const DEAD_WARM_GUEST_RETRIES = 3

/** How long closing waits for workers to stop their own guests before disposing them itself. */
const LEASE_RELEASE_GRACE_MS = 10_000

/** A booted guest, with the Vitest worker already forked in it once the pool knows how to start one. */
export interface WarmGuest {
  guest: Guest
  worker?: GuestProcess | undefined
}

/**
 * Keeps `size` guests booting or booted ahead of need and hands them out one at a time. A guest
 * is used by one pool worker and disposed by it; the pool boots a replacement at each lease.
 * A boot that fails surfaces at the lease that takes it, so the file that needed it reports why.
 */
export class GuestPool {
  private readonly warm: Promise<WarmGuest>[] = []
  private readonly leased = new Set<Guest>()
  private closed = false

  constructor(
    private readonly boot: () => Promise<WarmGuest>,
    private readonly size: number,
  ) {}

  /** Starts booting guests until `size` are on their way. */
  fill(): void {
    while (!this.closed && this.warm.length < this.size) {
      const booting = this.boot()
      booting.catch(() => {})
      this.warm.push(booting)
    }
  }

  /** Applies `prepare` to every warm guest once booted (and those booted later get it from `boot`). */
  prepareWarm(prepare: (warm: WarmGuest) => void): void {
    for (const booting of this.warm) void booting.then(prepare, () => {})
  }

  async lease(retries = DEAD_WARM_GUEST_RETRIES): Promise<WarmGuest> {
    if (this.closed) throw new Error('The uml guest pool is closed. This is a bug in vitest-pool-uml.')
    const next = this.warm.shift() ?? this.boot()
    this.fill()
    const warm = await next
    // A warm guest can die while it waits (killed from outside): the file takes the next one
    // instead. Past a few, the dead guest is handed out, and the file fails with why it died.
    if (!warm.guest.alive && retries > 0 && !this.closed) return this.lease(retries - 1)
    const { guest } = warm
    this.leased.add(guest)
    void guest.exited.then(() => this.leased.delete(guest))
    return warm
  }

  /**
   * Disposes every guest: warm ones at once; leased ones once their workers had the time to stop
   * them (Vitest stops runners while it closes), so a worker is not cut off mid-stop.
   */
  async close(): Promise<void> {
    this.closed = true
    const warm = this.warm.splice(0)
    const released = Promise.allSettled([...this.leased].map((guest) => guest.exited))
    await Promise.allSettled([
      ...warm.map(async (booting) => (await booting).guest.dispose()),
      Promise.race([released, delay(LEASE_RELEASE_GRACE_MS, undefined, { ref: false })]).then(() =>
        Promise.allSettled([...this.leased].map((guest) => guest.dispose())),
      ),
    ])
  }
}
