import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import {
  DEFAULT_IMAGE,
  DEFAULT_KERNEL,
  ensureImage,
  fetchKernel,
  Guest,
  type GuestOptions,
  getCacheDir,
  processTreePids,
} from 'vitest-pool-uml/api'
import { SUITE_DIR } from './measure-suite.js'
import { median } from './stats.js'

export async function defaultGuestOptions(): Promise<GuestOptions> {
  const cacheDir = getCacheDir()
  const kernel = await fetchKernel(DEFAULT_KERNEL, { cacheDir })
  const image = await ensureImage(DEFAULT_IMAGE, { cacheDir })
  return {
    kernel: { name: kernel.name, dir: kernel.dir, supportsSeccomp: kernel.supportsSeccomp },
    imagePath: image.path,
    cacheDir,
  }
}

/**
 * Host memory a guest holds, by proportional set size: each page the sandbox's processes map
 * counts once, split between the processes that share it (the kernel binary, the guest memory
 * file), so it adds up across guests, unlike a drop in MemAvailable that other processes disturb.
 */
export async function guestPssMiB(guest: Guest): Promise<number> {
  const pid = guest.hostPid
  return pid === undefined ? Number.NaN : processTreePssMiB(pid)
}

/** PSS of a host process and its descendants, in MiB. */
export async function processTreePssMiB(pid: number): Promise<number> {
  let kib = 0
  for (const member of await processTreePids(pid)) {
    const rollup = await readFile(`/proc/${member}/smaps_rollup`, 'utf8').catch(() => '')
    kib += Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0)
  }
  return kib / 1024
}

export interface GuestMemory {
  guests: number
  allReady: boolean
  idleMiBPerGuest: number
  busyMiBPerGuest: number
}

/**
 * Host memory a guest costs (PSS, median of the guests): `count` guests booted at once and left
 * idle, then each running a Vitest worker that has loaded Vitest (as a warm pool worker does).
 */
export async function measureGuestMemory(count: number): Promise<GuestMemory> {
  const options = await defaultGuestOptions()
  const vitestDir = dirname(createRequire(join(SUITE_DIR, 'package.json')).resolve('vitest/package.json'))
  // The whole node_modules tree Vitest is loaded from (its dependencies are links within it).
  const nodeModules = vitestDir.slice(0, vitestDir.indexOf('/node_modules/') + '/node_modules'.length)
  const booted = await Promise.allSettled(
    Array.from({ length: count }, () =>
      Guest.boot({ ...options, shares: [{ hostPath: nodeModules }, { hostPath: SUITE_DIR }] }),
    ),
  )
  const guests = booted.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  try {
    await delay(3000)
    const pss = async () => median(await Promise.all(guests.map(guestPssMiB)))
    const idle = await pss()
    for (const guest of guests)
      guest.fork(join(vitestDir, 'dist', 'workers', 'forks.js'), { cwd: SUITE_DIR, execArgv: [] })
    await delay(8000)
    const busy = await pss()
    return { guests: count, allReady: guests.length === count, idleMiBPerGuest: idle, busyMiBPerGuest: busy }
  } finally {
    await Promise.all(guests.map((guest) => guest.dispose()))
  }
}
