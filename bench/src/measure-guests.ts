import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { getCacheDir } from '@vitest-uml/core'
import { Guest, type GuestOptions } from '@vitest-uml/guest'
import { ensureImage } from '@vitest-uml/images'
import { fetchKernel } from '@vitest-uml/kernels'
import { SUITE_DIR } from './measure-suite.js'

export async function defaultGuestOptions(): Promise<GuestOptions> {
  const cacheDir = getCacheDir()
  const kernel = await fetchKernel('7.2', { cacheDir })
  const image = await ensureImage('debian-trixie', { cacheDir })
  return {
    kernel: { name: kernel.name, dir: kernel.dir, supportsSeccomp: kernel.supportsSeccomp },
    imagePath: image.path,
    cacheDir,
  }
}

async function memAvailableMiB(): Promise<number> {
  const meminfo = await readFile('/proc/meminfo', 'utf8')
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1]) / 1024
}

export interface GuestMemory {
  guests: number
  allReady: boolean
  idleMiBPerGuest: number
  busyMiBPerGuest: number
}

/**
 * Host memory a guest costs, from the drop in MemAvailable: `count` guests booted at once and left
 * idle, then each running a Vitest worker that has loaded Vitest (as a warm pool worker does).
 */
export async function measureGuestMemory(count: number): Promise<GuestMemory> {
  const options = await defaultGuestOptions()
  const vitestDir = dirname(createRequire(join(SUITE_DIR, 'package.json')).resolve('vitest/package.json'))
  const before = await memAvailableMiB()
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
    const idle = (before - (await memAvailableMiB())) / guests.length
    for (const guest of guests)
      guest.fork(join(vitestDir, 'dist', 'workers', 'forks.js'), { cwd: SUITE_DIR, execArgv: [] })
    await delay(8000)
    const busy = (before - (await memAvailableMiB())) / guests.length
    return { guests: count, allReady: guests.length === count, idleMiBPerGuest: idle, busyMiBPerGuest: busy }
  } finally {
    await Promise.all(guests.map((guest) => guest.dispose()))
  }
}
