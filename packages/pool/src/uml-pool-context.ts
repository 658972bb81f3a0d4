import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createStreamProgress, getCacheDir, removeAbandonedEntries } from '@vitest-uml/core'
import { Guest, type GuestOptions, type GuestProcess } from '@vitest-uml/guest'
import { removeCacheTree } from '@vitest-uml/images'
import { fetchKernel } from '@vitest-uml/kernels'
import type { TestProject } from 'vitest/node'
import { GuestPool, type WarmGuest } from './guest-pool.js'
import type { ResolvedPoolOptions } from './pool-options.js'
import { prepareImage } from './prepare-image.js'
import { projectShares } from './project-shares.js'
import type { CreateFileTask } from './report-lost-files.js'
import { recordTiming } from './timings.js'

export interface PoolSettings {
  options: ResolvedPoolOptions
  /** The project root: the worker's cwd, shared read-only at the same path. */
  root: string
  /** The project's own Vitest worker entry (its copy of Vitest, not this package's). */
  workerEntry: string
  /** Tells tests where they run: `VITEST_UML_KERNEL`, `VITEST_UML_IMAGE`. */
  guestEnv: Record<string, string>
  /** The project's Vitest's own file-task factory, to report files whose guest died. */
  createFileTask: CreateFileTask
}

/** How Vitest starts its workers for this project (the same for every task of a project). */
export interface WorkerLaunch {
  execArgv: string[]
  env: Record<string, string>
  user: string
}

/** What every worker of one uml pool shares: its settings, its warm guests, how to start workers. */
export interface UmlPoolContext {
  settings: PoolSettings
  guests: GuestPool
  /**
   * Known from the first pool worker on; from then on, warm guests also get the Vitest worker
   * forked ahead of need, so a file does not wait for Node to start and load Vitest in the guest.
   */
  launch: WorkerLaunch | undefined
}

/**
 * Prepares a pool for a project: clears what killed runs left half-built in the cache, fetches the
 * kernel and builds the image if the cache lacks them (with progress on stderr), then starts
 * booting warm guests. Guests go when Vitest closes.
 */
export async function createPoolContext(project: TestProject, options: ResolvedPoolOptions): Promise<UmlPoolContext> {
  const preparing = performance.now()
  const root = project.config.root
  const cacheDir = getCacheDir()
  const progress = createStreamProgress()
  await removeAbandonedEntries(cacheDir, { remove: removeCacheTree })
  const kernel = await fetchKernel(options.kernel, { cacheDir, progress })
  const guestKernel = { name: kernel.name, dir: kernel.dir, supportsSeccomp: kernel.supportsSeccomp }
  const image = await prepareImage(options.image, { recipes: options.images, kernel: guestKernel, cacheDir, progress })
  const vitestDir = dirname(createRequire(`${root}/`).resolve('vitest/package.json'))
  const extraShares = options.shares.map((share) => share.path)
  const guestOptions: GuestOptions = {
    kernel: guestKernel,
    imagePath: image.path,
    cacheDir,
    memoryMiB: options.memory,
    diskMiB: options.disk,
    bootTimeoutMs: options.bootTimeout,
    shares: [
      ...projectShares(root, [])
        .filter((path) => !extraShares.includes(path))
        .map((hostPath) => ({ hostPath })),
      ...options.shares.map((share) => ({ hostPath: share.path, writable: share.writable })),
    ],
  }
  const workerEntry = join(vitestDir, 'dist', 'workers', 'forks.js')
  const guestEnv = { VITEST_UML_KERNEL: kernel.name, VITEST_UML_IMAGE: image.name }
  const runnerUtils = createRequire(join(vitestDir, 'package.json')).resolve('@vitest/runner/utils')
  const { createFileTask } = (await import(pathToFileURL(runnerUtils).href)) as { createFileTask: CreateFileTask }
  const settings = { options, root, workerEntry, guestEnv, createFileTask }
  const boot = async (): Promise<WarmGuest> => {
    const started = performance.now()
    const guest = await Guest.boot(guestOptions)
    recordTiming('boot', performance.now() - started)
    return { guest, worker: context.launch && forkWorker(guest, settings, context.launch) }
  }
  const context: UmlPoolContext = {
    settings,
    launch: undefined,
    guests: new GuestPool(boot, options.warmGuests ?? defaultWarmGuests(project)),
  }
  context.guests.fill()
  project.vitest.onClose(() => context.guests.close())
  recordTiming('prepare', performance.now() - preparing)
  return context
}

/** Forks the project's own Vitest worker in a guest, as the guest user, with the project root as cwd. */
export function forkWorker(guest: Guest, settings: PoolSettings, launch: WorkerLaunch): GuestProcess {
  return guest.fork(settings.workerEntry, {
    execArgv: launch.execArgv,
    env: launch.env,
    cwd: settings.root,
    user: launch.user,
  })
}

/**
 * One guest per worker Vitest runs at once (its own default, as Vitest resolves it), plus one
 * booting while they run, since each isolated file needs a fresh guest. Measured with
 * `pnpm bench` on 2 cores: a second spare made boots compete for the cores and the run slower.
 */
function defaultWarmGuests(project: TestProject): number {
  const configured = project.config.maxWorkers || project.vitest.config.maxWorkers
  const cpus = availableParallelism()
  const workers =
    configured || (project.vitest.config.watch ? Math.max(Math.floor(cpus / 2), 1) : Math.max(cpus - 1, 1))
  return workers + 1
}
