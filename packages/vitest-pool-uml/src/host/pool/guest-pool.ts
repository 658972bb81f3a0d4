import { setTimeout as delay } from 'node:timers/promises'
import type { Guest, GuestProcess } from '../guest/index.js'

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
 * Keeps `size` guests booting or booted ahead of need and hands them out one at a time. A boot
 * that fails surfaces at the lease that takes it, so the file that needed it reports why.
 *
 * Without `reuse`, a guest serves one pool worker, which disposes it, and each lease boots a
 * replacement. With `reuse`, a worker whose file ran cleanly hands its guest back (`giveBack`)
 * for a later file's session, so leased guests count towards `size`: the pool boots only to
 * replace a guest that did not come back.
 */
export class GuestPool {
  private readonly warm: Promise<WarmGuest>[] = []
  private readonly leased = new Set<Guest>()
  /** Leases waiting for their guest: with reuse, they count as guests out. */
  private leasing = 0
  private closed = false

  constructor(
    private readonly boot: () => Promise<WarmGuest>,
    private readonly size: number,
    private readonly hooks: {
      /** Readies a guest for its file as it is leased (sets its clock, say). */
      onLease?: ((warm: WarmGuest) => Promise<void>) | undefined
      /** Guests handed back are taken, readied for their next file by `ready`. */
      reuse?: false | { ready: (guest: Guest) => Promise<WarmGuest> }
    } = {},
  ) {}

  private get reuse(): boolean {
    return Boolean(this.hooks.reuse)
  }

  /** Starts booting guests until `size` are on their way (or, with `reuse`, booted or out). */
  fill(): void {
    while (!this.closed && this.warm.length + (this.reuse ? this.leasing + this.leased.size : 0) < this.size) {
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
    this.leasing++
    this.fill()
    let warm: WarmGuest
    try {
      warm = await next
    } finally {
      this.leasing--
    }
    // A warm guest can die while it waits (killed from outside): the file takes the next one
    // instead. Past a few, the dead guest is handed out, and the file fails with why it died.
    if (!warm.guest.alive && retries > 0 && !this.closed) return this.lease(retries - 1)
    const { guest } = warm
    this.leased.add(guest)
    void guest.exited.then(() => {
      // With reuse, a guest that ended while out is replaced (one given back is no longer out).
      if (this.leased.delete(guest) && this.reuse) this.fill()
    })
    const { onLease } = this.hooks
    if (guest.alive && onLease) {
      await onLease(warm).catch(async (error: unknown) => {
        await guest.dispose()
        throw error
      })
    }
    return warm
  }

  /**
   * Takes back a leased guest for a later lease once `reusable` says its file's session ended
   * cleanly (or boots a replacement if not): queued at once, behind the warm guests, so a lease
   * meanwhile waits for it instead of booting another.
   */
  handBack(guest: Guest, reusable: Promise<boolean>): void {
    const { reuse } = this.hooks
    if (!reuse || this.closed || !this.leased.delete(guest)) {
      void reusable.then(() => guest.dispose())
      return
    }
    // Closing disposes what a queued entry resolves to: then no replacement is booted.
    const next = reusable.then((clean) => (clean ? reuse.ready(guest) : this.closed ? { guest } : this.boot()))
    next.catch(() => {})
    this.warm.push(next)
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
