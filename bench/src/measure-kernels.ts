import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import {
  createStreamProgress,
  DEFAULT_IMAGE,
  ensureImage,
  ensureKernel,
  Guest,
  getCacheDir,
  guestKernel,
} from 'vitest-pool-uml/api'
import { guestPssMiB } from './measure-guests.js'
import { SUITE_DIR } from './measure-suite.js'
import { median, round } from './stats.js'

/** Debian's prebuilt default, against the kernel vitest-uml builds from the same version's source. */
const COMPARED_KERNELS = ['7.2', 'custom-7.2']
const isBuiltHere = (name: string) => name.startsWith('custom-')

/** The issue's targets for a kernel built for guests. */
const TARGETS = { bootMs: 400, idleMiB: 30 }

/**
 * Smaller guests the custom kernel also idles in: an idle guest's memory grows with its size (UML
 * initialises a `struct page` for every page at boot), so the idle target depends on it.
 */
const SMALLER_GUESTS_MIB = [512]

/** How long a guest idles after boot before its memory is read, so boot-time work has settled. */
const SETTLE_MS = 3000

interface KernelFigures {
  kernel: string
  release: string
  /** Spawn to agent ready. */
  bootMs: number
  /** PSS of the guest's sandbox processes, idle. */
  idleMiB: number
  /** A Node process forked in the guest until it has loaded Vitest's worker entry: what a pool worker's start is made of. */
  workerStartMs: number
  /** The custom kernel's idle PSS in SMALLER_GUESTS_MIB guests, by their memory in MiB. */
  idleMiBByGuestMiB?: Record<number, number>
}

/**
 * Boots one guest at a time on Debian's 7.2 and on custom-7.2 (built first if the cache lacks it),
 * alternating the kernels round by round so drift on a busy machine favours neither; medians.
 */
export async function measureKernelsSection(rounds: number) {
  const figures = await measureKernels(rounds)
  const custom = figures.find((each) => isBuiltHere(each.kernel))
  const targets = {
    customKernelBoot: (custom?.bootMs ?? Number.POSITIVE_INFINITY) <= TARGETS.bootMs,
    customKernelIdleMemory: (custom?.idleMiB ?? Number.POSITIVE_INFINITY) <= TARGETS.idleMiB,
  }
  const check = (met: boolean) => (met ? 'met' : 'MISSED')
  return {
    report: { kernels: figures },
    lines: [
      `kernels (one guest at a time, ${rounds} alternating rounds, medians; targets for custom-7.2: boot <= ${TARGETS.bootMs} ms ${check(targets.customKernelBoot)}, idle <= ${TARGETS.idleMiB} MiB ${check(targets.customKernelIdleMemory)})`,
      ...figures.map(
        (each) =>
          `  ${each.kernel.padEnd(12)} ${each.release.padEnd(8)} boot ${each.bootMs} ms, idle ${each.idleMiB} MiB, worker start ${each.workerStartMs} ms`,
      ),
      ...(custom?.idleMiBByGuestMiB
        ? [
            `  ${custom.kernel} idle in smaller guests: ${Object.entries(custom.idleMiBByGuestMiB)
              .map(([guestMiB, idleMiB]) => `${idleMiB} MiB in ${guestMiB} MiB`)
              .join(', ')}`,
          ]
        : []),
    ],
    targets,
  }
}

/** Forks a Node process in the guest that loads Vitest's worker entry; ms until it reports it loaded. */
async function timeWorkerStart(guest: Guest, probe: string, workerEntry: string): Promise<number> {
  const started = performance.now()
  const worker = guest.fork(probe, { args: [workerEntry] })
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('message', () => resolve())
      worker.on('exit', ({ code, error }) => reject(error ?? new Error(`the worker probe exited (${code})`)))
    })
    return performance.now() - started
  } finally {
    worker.kill('SIGKILL')
  }
}

async function measureKernels(rounds: number): Promise<KernelFigures[]> {
  const cacheDir = getCacheDir()
  const progress = createStreamProgress()
  const image = await ensureImage(DEFAULT_IMAGE, { cacheDir, progress })
  const kernels = await Promise.all(COMPARED_KERNELS.map((name) => ensureKernel(name, { cacheDir, progress })))
  const vitestDir = dirname(createRequire(join(SUITE_DIR, 'package.json')).resolve('vitest/package.json'))
  const nodeModules = vitestDir.slice(0, vitestDir.indexOf('/node_modules/') + '/node_modules'.length)
  const workerEntry = join(vitestDir, 'dist', 'workers', 'forks.js')
  const probe = fileURLToPath(new URL('./worker-start-probe.js', import.meta.url))
  const samples = new Map(kernels.map((kernel) => [kernel.name, [] as Omit<KernelFigures, 'kernel' | 'release'>[]]))
  const smallerIdle = new Map(SMALLER_GUESTS_MIB.map((guestMiB) => [guestMiB, [] as number[]]))
  const boot = (kernel: (typeof kernels)[number], memoryMiB?: number) =>
    Guest.boot({
      kernel: guestKernel(kernel),
      imagePath: image.path,
      cacheDir,
      shares: [{ hostPath: nodeModules }, { hostPath: dirname(probe) }],
      ...(memoryMiB === undefined ? {} : { memoryMiB }),
    })
  for (let round = 0; round < rounds; round++) {
    for (const kernel of kernels.map((_, index) => kernels[(index + round) % kernels.length]!)) {
      const started = performance.now()
      const guest = await boot(kernel)
      const bootMs = performance.now() - started
      try {
        await delay(SETTLE_MS)
        const idleMiB = await guestPssMiB(guest)
        const workerStartMs = await timeWorkerStart(guest, probe, workerEntry)
        samples.get(kernel.name)?.push({ bootMs, idleMiB, workerStartMs })
        process.stderr.write(
          `kernels round ${round + 1}/${rounds}: ${kernel.name} boot ${bootMs.toFixed(0)} ms, idle ${idleMiB.toFixed(1)} MiB, worker start ${workerStartMs.toFixed(0)} ms\n`,
        )
      } finally {
        await guest.dispose()
      }
      if (!isBuiltHere(kernel.name)) continue
      for (const guestMiB of SMALLER_GUESTS_MIB) {
        const smaller = await boot(kernel, guestMiB)
        try {
          await delay(SETTLE_MS)
          smallerIdle.get(guestMiB)?.push(await guestPssMiB(smaller))
        } finally {
          await smaller.dispose()
        }
      }
    }
  }
  return kernels.map((kernel) => {
    const kept = samples.get(kernel.name) ?? []
    const of = (key: 'bootMs' | 'idleMiB' | 'workerStartMs') => median(kept.map((sample) => sample[key]))
    return {
      kernel: kernel.name,
      release: kernel.release,
      bootMs: round(of('bootMs'), 0),
      idleMiB: round(of('idleMiB'), 1),
      workerStartMs: round(of('workerStartMs'), 0),
      ...(isBuiltHere(kernel.name)
        ? {
            idleMiBByGuestMiB: Object.fromEntries(
              [...smallerIdle].map(([guestMiB, idle]) => [guestMiB, round(median(idle), 1)]),
            ),
          }
        : {}),
    }
  })
}
