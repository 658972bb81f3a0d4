import { setImmediate as tick } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { Guest } from '../../../src/host/guest/index.js'
import { GuestPool } from '../../../src/host/pool/guest-pool.js'

/** Stands in for a booted guest: the pool only leases, watches and disposes guests. */
function fakeGuest() {
  let exit: (value: undefined) => void = () => {}
  const exited = new Promise<undefined>((resolve) => {
    exit = resolve
  })
  const guest = {
    exited,
    alive: true,
    disposed: 0,
    dispose: async () => {
      guest.disposed++
      guest.alive = false
      exit(undefined)
    },
  }
  return guest
}

/** A pool of fake guests, with every guest it booted, in order, and every one readied again. */
function fakePool(size: number, { reuse = false } = {}) {
  const booted: ReturnType<typeof fakeGuest>[] = []
  const readied: Guest[] = []
  const ready = async (guest: Guest) => {
    readied.push(guest)
    return { guest }
  }
  const pool = new GuestPool(
    async () => {
      const guest = fakeGuest()
      booted.push(guest)
      return { guest: guest as unknown as Guest }
    },
    size,
    { reuse: reuse && { ready } },
  )
  return { pool, booted, readied }
}

describe('GuestPool', () => {
  it('boots guests ahead, replaces each one leased, and disposes the rest on close', async () => {
    const { pool, booted } = fakePool(2)
    pool.fill()
    expect(booted).toHaveLength(2)
    const { guest: first } = await pool.lease()
    expect(first).toBe(booted[0])
    expect(booted).toHaveLength(3)
    // Its worker disposes a leased guest; closing waits for that, and disposes the warm ones.
    await first.dispose()
    await pool.close()
    expect(booted.map((guest) => guest.disposed)).toEqual([1, 1, 1])
  })

  it('leases a fresh guest instead of a warm one that died while it waited', async () => {
    const { pool, booted } = fakePool(1)
    pool.fill()
    await booted[0]?.dispose()
    const { guest } = await pool.lease()
    expect(guest).toBe(booted[1])
    expect(guest.alive).toBe(true)
    await guest.dispose()
    await pool.close()
  })

  it('reports a failed boot at the lease that takes it', async () => {
    const pool = new GuestPool(() => Promise.reject(new Error('no kernel')), 1)
    pool.fill()
    await expect(pool.lease()).rejects.toThrow('no kernel')
    await pool.close()
  })

  it('with reuse, boots only to replace a guest that does not come back, and leases those handed back after the warm ones', async () => {
    const { pool, booted, readied } = fakePool(2, { reuse: true })
    pool.fill()
    const { guest: first } = await pool.lease()
    // A leased guest still counts: no boot at the lease.
    expect(booted).toHaveLength(2)
    // Handed back before its session ended: the next leases wait for it rather than boot.
    const ending: { end?: (clean: boolean) => void } = {}
    pool.handBack(
      first,
      new Promise((resolve) => {
        ending.end = resolve
      }),
    )
    const { guest: second } = await pool.lease()
    expect(second).toBe(booted[1])
    const again = pool.lease()
    ending.end?.(true)
    expect((await again).guest).toBe(first)
    expect(readied).toEqual([first])
    expect(booted).toHaveLength(2)
    // A guest that ends while out (a hang, a panic, a file left running) is replaced.
    await second.dispose()
    expect(booted).toHaveLength(3)
    // So is one whose session did not end cleanly.
    pool.handBack(first, Promise.resolve(false))
    await first.dispose()
    const { guest: replacement } = await pool.lease()
    expect(replacement).toBe(booted[2])
    expect(booted).toHaveLength(4)
    pool.handBack(replacement, Promise.resolve(true))
    await pool.close()
    expect(booted.map((guest) => guest.disposed)).toEqual([1, 1, 1, 1])
  })

  it('disposes a guest handed back after closing, or to a pool that does not reuse guests', async () => {
    const { pool, booted } = fakePool(1)
    pool.fill()
    const { guest } = await pool.lease()
    pool.handBack(guest, Promise.resolve(true))
    await tick()
    expect(booted[0]?.disposed).toBe(1)
    const reusing = fakePool(1, { reuse: true })
    reusing.pool.fill()
    const { guest: leased } = await reusing.pool.lease()
    const closing = reusing.pool.close()
    reusing.pool.handBack(leased, Promise.resolve(true))
    await closing
    expect(reusing.booted[0]?.disposed).toBe(1)
    expect(reusing.readied).toEqual([])
    await pool.close()
  })
})
