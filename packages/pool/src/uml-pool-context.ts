import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createStreamProgress, getCacheDir } from '@vitest-uml/core'
import { Guest, type GuestOptions } from '@vitest-uml/guest'
import { ensureImage } from '@vitest-uml/images'
import { fetchKernel } from '@vitest-uml/kernels'
import type { TestProject } from 'vitest/node'
import { GuestPool } from './guest-pool.js'
import type { ResolvedPoolOptions } from './pool-options.js'
import { projectShares } from './project-shares.js'
import type { CreateFileTask } from './report-lost-files.js'

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

/** What every worker of one uml pool shares: its settings and its warm guests. */
export interface UmlPoolContext {
  settings: PoolSettings
  guests: GuestPool
}

/**
 * Prepares a pool for a project: fetches the kernel and builds the image if the cache lacks them
 * (with progress on stderr), then starts booting warm guests. Guests go when Vitest closes.
 */
export async function createPoolContext(project: TestProject, options: ResolvedPoolOptions): Promise<UmlPoolContext> {
  const root = project.config.root
  const cacheDir = getCacheDir()
  const progress = createStreamProgress()
  const kernel = await fetchKernel(options.kernel, { cacheDir, progress })
  const image = await ensureImage(options.image, { cacheDir, progress })
  const vitestDir = dirname(createRequire(`${root}/`).resolve('vitest/package.json'))
  const extraShares = options.shares.map((share) => share.path)
  const guestOptions: GuestOptions = {
    kernel: { name: kernel.name, dir: kernel.dir, supportsSeccomp: kernel.supportsSeccomp },
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
  const guests = new GuestPool(() => Guest.boot(guestOptions), options.warmGuests ?? defaultWarmGuests(project))
  guests.fill()
  project.vitest.onClose(() => guests.close())
  const workerEntry = join(vitestDir, 'dist', 'workers', 'forks.js')
  const guestEnv = { VITEST_UML_KERNEL: kernel.name, VITEST_UML_IMAGE: image.name }
  const runnerUtils = createRequire(join(vitestDir, 'package.json')).resolve('@vitest/runner/utils')
  const { createFileTask } = (await import(pathToFileURL(runnerUtils).href)) as { createFileTask: CreateFileTask }
  return { settings: { options, root, workerEntry, guestEnv, createFileTask }, guests }
}

/**
 * One guest per worker Vitest runs at once (its own default, as Vitest resolves it), plus one
 * booting while they run, since each isolated file needs a fresh guest.
 */
function defaultWarmGuests(project: TestProject): number {
  const configured = project.config.maxWorkers || project.vitest.config.maxWorkers
  const cpus = availableParallelism()
  const workers =
    configured || (project.vitest.config.watch ? Math.max(Math.floor(cpus / 2), 1) : Math.max(cpus - 1, 1))
  return workers + 1
}
