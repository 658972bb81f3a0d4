import type { Guest } from '@vitest-uml/guest'
import { describe, expect, it } from 'vitest'
import { GuestPool } from '../src/guest-pool.js'

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

/** A pool of fake guests, with every guest it booted, in order. */
function fakePool(size: number) {
  const booted: ReturnType<typeof fakeGuest>[] = []
  const pool = new GuestPool(async () => {
    const guest = fakeGuest()
    booted.push(guest)
    return { guest: guest as unknown as Guest }
  }, size)
  return { pool, booted }
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
})
