import { availableParallelism } from 'node:os'
import { basename, dirname, join } from 'node:path'
import type { TestProject } from 'vitest/node'
import {
  createStreamProgress,
  getCacheDir,
  isWallOff,
  removeAbandonedEntries,
  WALL_OFF_VARIABLE,
} from '../core/index.js'
import { checkTimeTravel, Guest, type GuestOptions, type GuestProcess, guestKernel } from '../guest/index.js'
import { LOCK_FILE_NAME, removeCacheTree } from '../images/index.js'
import { ensureKernel } from '../kernels/index.js'
import { GuestPool, type WarmGuest } from './guest-pool.js'
import type { ResolvedPoolOptions } from './pool-options.js'
import { prepareImage } from './prepare-image.js'
import { projectShares } from './project-shares.js'
import { recordHostCpu, recordTiming } from './timings.js'
import { forksWorkerEntry, loadVitestRuntime, type ProjectVitest, type VitestRuntime } from './vitest-internals.js'
import { findHiddenPaths } from './wall/hidden-files.js'
import { type WallSettings, wallSettings } from './wall/wall-settings.js'

export interface PoolSettings {
  options: ResolvedPoolOptions
  /** The project root: the worker's cwd, shared copy-on-write at the same path. */
  root: string
  /** The project's own Vitest worker entry (its copy of Vitest, not this package's). */
  workerEntry: string
  /** Tells tests where they run: `VITEST_UML_KERNEL`, `VITEST_UML_IMAGE`. */
  guestEnv: Record<string, string>
  /** Pieces of the project's own Vitest the pool calls (file tasks, the stack parser). */
  runtime: VitestRuntime
  /** What the wall between each guest and the host knows of this project. */
  wall: WallSettings
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
  /**
   * Whether each file's worker runs in a fresh session of a booted guest, which then serves the
   * next file: unless `freshKernel` is set or the image cannot (decided on the first guest).
   */
  sessions: boolean
}

/**
 * Prepares a pool for a project: clears what killed runs left half-built in the cache, fetches the
 * kernel and builds the image if the cache lacks them (with progress on stderr), then starts
 * booting warm guests. Guests go when Vitest closes.
 */
export async function createPoolContext(
  project: TestProject,
  options: ResolvedPoolOptions,
  vitest: ProjectVitest,
): Promise<UmlPoolContext> {
  const preparing = performance.now()
  const root = project.config.root
  if (isWallOff()) {
    project.vitest.logger.warn(
      `vitest-pool-uml: ${WALL_OFF_VARIABLE} is set: the wall between guests and this host is OFF, and code in a guest can read and write your files. It exists for vitest-uml's own escape tests; unset it.`,
    )
  }
  const cacheDir = getCacheDir()
  const progress = createStreamProgress()
  await removeAbandonedEntries(cacheDir, { remove: removeCacheTree })
  const kernel = await ensureKernel(options.kernel, { cacheDir, progress, recipes: options.kernels, baseDir: root })
  const kernelForGuests = guestKernel(kernel)
  checkTimeTravel(kernelForGuests, options.time)
  const configFile = project.vite.config.configFile || undefined
  const image = await prepareImage(options.image, {
    recipes: options.images,
    kernel: kernelForGuests,
    cacheDir,
    progress,
    // Beside the config, which a project commits with it; in CI only what it pins is pulled.
    lockFile: join(configFile ? dirname(configFile) : root, LOCK_FILE_NAME),
    frozen: Boolean(process.env.CI),
  })
  const extraShares = options.shares.map((share) => share.path)
  const runtime = await loadVitestRuntime(vitest)
  const wall = wallSettings(project, runtime)
  const sharedProject = projectShares(root, []).filter((path) => !extraShares.includes(path))
  const hiding = performance.now()
  const hidden = await Promise.all(
    sharedProject.map((hostPath) =>
      basename(hostPath) === 'node_modules' || isWallOff() ? [] : findHiddenPaths(hostPath, wall.files),
    ),
  )
  recordTiming('wall-prepare', performance.now() - hiding)
  const warmGuests = options.warmGuests ?? defaultWarmGuests(project)
  const guestOptions: GuestOptions = {
    kernel: kernelForGuests,
    imagePath: image.path,
    cacheDir,
    memoryMiB: options.memory,
    diskMiB: options.disk,
    bootTimeoutMs: options.bootTimeout,
    network: options.network,
    time: options.time,
    // Guests kept for many files stay on a CPU each; a boot per file would crowd some CPUs.
    pinCpu: !options.freshKernel && warmGuests <= availableParallelism(),
    shares: [
      // Tests may write anywhere in the project, as with forks: the guest sees the writes, the
      // host tree never changes. What server.fs.deny keeps from module fetches stays out of it.
      ...sharedProject.map((hostPath, index) => ({ hostPath, copyOnWrite: true, hidden: hidden[index] ?? [] })),
      ...options.shares.map((share) => ({ hostPath: share.path, writable: share.writable })),
    ],
  }
  const guestEnv = { VITEST_UML_KERNEL: kernel.name, VITEST_UML_IMAGE: options.image }
  const settings: PoolSettings = { options, root, workerEntry: forksWorkerEntry(vitest.dir), guestEnv, runtime, wall }
  let checkingSessions: Promise<void> | undefined
  const boot = async (): Promise<WarmGuest> => {
    const started = performance.now()
    // Without sessions (an image that cannot run them) a guest serves one file, as with freshKernel.
    const guest = await Guest.boot({ ...guestOptions, pinCpu: guestOptions.pinCpu && context.sessions })
    recordTiming('boot', performance.now() - started)
    if (context.sessions) {
      checkingSessions ??= checkSessions(guest, context, project).catch((error: unknown) => {
        checkingSessions = undefined
        throw error
      })
      await checkingSessions
    }
    return readyWarm(guest)
  }
  /** Forks the next file's worker ahead of need in a booted guest, or one handed back. */
  const readyWarm = async (guest: Guest): Promise<WarmGuest> => {
    const worker = context.launch && forkWorker(guest, context, context.launch)
    // Under virtual time an idle guest spins a host CPU: a warm one waits stopped (its worker's fork queued).
    if (options.time === 'virtual') await guest.pause()
    return { guest, worker }
  }
  const context: UmlPoolContext = {
    settings,
    launch: undefined,
    sessions: !options.freshKernel,
    guests: new GuestPool(boot, warmGuests, {
      onLease: readyAtLease(options),
      reuse: !options.freshKernel && { ready: readyWarm },
    }),
  }
  context.guests.fill()
  project.vitest.onClose(() => {
    recordHostCpu()
    return context.guests.close()
  })
  recordTiming('prepare', performance.now() - preparing)
  return context
}

/**
 * Readies a warm guest for its file: a paused one (virtual time) goes on, and with `clock` its
 * clock is set now, not at boot, since a warm guest waits for its file for an unknown time.
 */
function readyAtLease(options: ResolvedPoolOptions): ((warm: WarmGuest) => Promise<void>) | undefined {
  if (options.time !== 'virtual' && options.clock === undefined) return undefined
  const date = options.clock === undefined ? undefined : new Date(options.clock)
  return async ({ guest }) => {
    guest.resume()
    if (date) await guest.setClock(date)
  }
}

/**
 * Forks the project's own Vitest worker in a guest, as the guest user, with the project root as
 * cwd: in a fresh session of the guest, unless each file gets a guest of its own.
 */
export function forkWorker(guest: Guest, context: UmlPoolContext, launch: WorkerLaunch): GuestProcess {
  return guest.fork(context.settings.workerEntry, {
    execArgv: launch.execArgv,
    env: launch.env,
    cwd: context.settings.root,
    user: launch.user,
    ...(context.sessions && { session: true }),
  })
}

/**
 * Whether the guest can run sessions (an image built without the pristine second disk has none, a
 * kernel without overlayfs cannot): if not, each file gets a fresh guest, and the user is told
 * once why.
 */
async function checkSessions(guest: Guest, context: UmlPoolContext, project: TestProject): Promise<void> {
  const { exitCode, stderr } = await guest.exec(['true'], { session: true })
  if (exitCode === 0) return
  context.sessions = false
  project.vitest.logger.warn(
    `vitest-pool-uml: the image ${context.settings.options.image} cannot run test files in sessions of a booted guest (${stderr.trim() || `exit status ${exitCode}`}), so each file gets a fresh guest, as with freshKernel: true.`,
  )
}

/**
 * One guest per worker Vitest runs at once (its own default, as Vitest resolves it), plus one
 * ready for the next file while a guest boots or readies its next session. Measured with `pnpm
 * bench` on 2 cores: a second spare made boots compete for the cores and the run slower. Without
 * isolation a worker keeps its guest for all its files, so a spare would only compete with the
 * first boot (mixed suite, `--no-isolate`: 7.3-8.5 s with the spare, 6.2-6.4 s without).
 */
function defaultWarmGuests(project: TestProject): number {
  const configured = project.config.maxWorkers || project.vitest.config.maxWorkers
  const cpus = availableParallelism()
  const workers =
    configured || (project.vitest.config.watch ? Math.max(Math.floor(cpus / 2), 1) : Math.max(cpus - 1, 1))
  return project.config.isolate === false ? workers : workers + 1
}
