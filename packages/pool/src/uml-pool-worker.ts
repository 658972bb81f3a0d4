import { EventEmitter } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { isUmlError, UmlError } from '@vitest-uml/core'
import type { Guest, GuestProcess } from '@vitest-uml/guest'
import type { PoolOptions, PoolWorker, WorkerRequest } from 'vitest/node'
import { CHILD_COVERAGE_DIR, childCoverageMessage, collectsChildCoverage } from './child-coverage.js'
import type { WarmGuest } from './guest-pool.js'
import { guestWorkerEnv } from './guest-worker-env.js'
import { isHostFsRequest, serveHostFsRequest } from './host-fs.js'
import { lostFileMessages } from './report-lost-files.js'
import { recordTiming } from './timings.js'
import { forkWorker, type UmlPoolContext, type WorkerLaunch } from './uml-pool-context.js'

/** File task states that mean the file is done, whatever its result. */
const SETTLED_STATES = new Set(['pass', 'fail', 'skip', 'todo'])

/** Time the worker gets to exit after SIGTERM before its guest is powered off regardless. */
const STOP_GRACE_MS = 2000

/**
 * One Vitest pool worker: the real Vitest worker (`vitest/dist/workers/forks.js`, the project's
 * own copy) forked inside a leased guest, its IPC channel carried over the guest's serial line.
 * Stopping it disposes the guest, so the next file starts on a pristine disk.
 */
export class UmlPoolWorker implements PoolWorker {
  readonly name = 'uml'
  /** Module fetches answer with code, not with paths to host cache files the guest cannot see. */
  readonly cacheFs = false
  private readonly events = new EventEmitter()
  private guest: Guest | undefined
  private process: GuestProcess | undefined
  private hangTimer: NodeJS.Timeout | undefined
  private context: UmlPoolContext | undefined
  /** Set once Vitest stops the worker: the guest going away is then expected, not an error. */
  private stopping = false
  /** The files of the run in progress, to report as failed if the guest dies under them. */
  private runningFiles: string[] = []
  /** Set when the guest died: Vitest's requests are then answered here. */
  private lost = false
  /** Why the guest died; a file Vitest sends after that goes to a fresh guest. */
  private lostCause: Error | undefined
  /** Vitest sent `start` and waits for the worker's `started`. */
  private awaitingStarted = false
  /** The last run or collect request, to send the files a dead guest did not begin to a fresh one. */
  private fileRequest: Extract<WorkerRequest, { type: 'run' | 'collect' }> | undefined
  /** How Vitest started this worker, to start a replacement the same way. */
  private startRequest: WorkerRequest | undefined
  /** Set while a replacement worker is being started: its `started` is not Vitest's to see. */
  private replayedStart: (() => void) | undefined
  private launch: WorkerLaunch | undefined
  /** Why the pool itself stopped the guest (a hang), reported instead of the disposal. */
  private hangError: UmlError | undefined
  private startedAt = 0
  private fileStartedAt = 0

  constructor(
    private readonly options: PoolOptions,
    private readonly preparing: Promise<UmlPoolContext>,
  ) {}

  async start(): Promise<void> {
    this.context = await this.preparing
    const { settings } = this.context
    const coverage: Record<string, string> = collectsChildCoverage(this.options.project)
      ? { NODE_V8_COVERAGE: CHILD_COVERAGE_DIR }
      : {}
    this.launch = {
      execArgv: this.options.execArgv,
      env: guestWorkerEnv(this.options.env, { ...settings.guestEnv, ...coverage, ...settings.options.env }),
      user: settings.options.user,
    }
    if (!this.context.launch) {
      const launch = this.launch
      this.context.launch = launch
      // Guests that booted before the pool knew how to start workers get theirs now.
      this.context.guests.prepareWarm((warm) => {
        warm.worker ??= forkWorker(warm.guest, settings, launch)
      })
    }
    const leasing = performance.now()
    const warm = await this.context.guests.lease()
    this.startedAt = performance.now()
    recordTiming('lease', this.startedAt - leasing)
    this.attach(warm)
  }

  /** Takes a leased guest and its Vitest worker (the one forked ahead of need if it still fits). */
  private attach({ guest, worker }: WarmGuest): void {
    const { settings, launch: poolLaunch } = this.context as UmlPoolContext
    const launch = this.launch as WorkerLaunch
    const usable = worker && !worker.exited && poolLaunch !== undefined && sameLaunch(poolLaunch, launch)
    if (worker && !usable) worker.kill('SIGKILL')
    const process = usable ? worker : forkWorker(guest, settings, launch)
    this.guest = guest
    this.process = process
    this.lost = false
    this.lostCause = undefined
    this.hangError = undefined
    const logger = this.options.project.vitest.logger
    process.on('stdout', (data) => logger.outputStream.write(data))
    process.on('stderr', (data) => logger.errorStream.write(data))
    process.on('message', (message) => {
      if (isHostFsRequest(message)) {
        void serveHostFsRequest(message, [settings.root]).then((reply) => process.send(reply))
        return
      }
      if (isWorkerResponse(message, 'started')) {
        recordTiming('worker-ready', performance.now() - this.startedAt)
        if (this.replayedStart) {
          // Vitest had its answer from the worker this one replaces.
          this.replayedStart()
          return
        }
        this.awaitingStarted = false
      }
      if (isWorkerResponse(message, 'testfileFinished')) {
        recordTiming('file', performance.now() - this.fileStartedAt)
        this.clearHangTimer()
        const files = this.runningFiles
        this.runningFiles = []
        if (collectsChildCoverage(this.options.project)) {
          void this.forwardAfterChildCoverage(guest, files, message)
          return
        }
      }
      this.events.emit('message', message)
    })
    process.on('exit', ({ code, signal, error }) => {
      if (process !== this.process) return
      this.clearHangTimer()
      this.replayedStart?.()
      const busy = this.runningFiles.length > 0 || this.awaitingStarted
      const cause = this.hangError ?? error ?? (busy ? workerExitError(guest, code, signal) : undefined)
      // A guest disposed on purpose (the pool closing) is a shutdown, not a failure of the file.
      if (this.stopping || (!this.hangError && isUmlError(cause, 'UML_GUEST_DISPOSED'))) return
      this.lost = true
      this.lostCause = cause
      if (!cause) this.events.emit('exit')
      else if (this.runningFiles.length > 0) void this.reportLostFiles(cause)
      // Died while Vitest waited for it to start: answered here; the file goes to a fresh guest.
      else if (this.awaitingStarted) this.respond('started')
    })
  }

  send(message: WorkerRequest): void {
    if (message.type === 'run' || message.type === 'collect') {
      this.fileRequest = message
      this.noteFiles(message.context.files.map((file) => file.filepath))
    }
    if (message.type === 'start') {
      this.startRequest = message
      this.awaitingStarted = true
    }
    if (this.lost) {
      if (message.type === 'start') this.respond('started')
      else if (message.type === 'stop') this.respond('stopped')
      else if (this.lostCause && this.runningFiles.length > 0) void this.relaunch(message)
      return
    }
    this.process?.send(message)
  }

  /** Files now sent to the worker: reported failed if the guest dies under them, or if they hang. */
  private noteFiles(files: string[]): void {
    this.fileStartedAt = performance.now()
    this.runningFiles = files
    this.armHangTimer()
  }

  /**
   * Sends files to a fresh guest and worker, started as Vitest started this one, after the guest
   * died before they began (before their run came, under an earlier file of the same run, or under
   * an earlier run of a runner Vitest reuses with isolate: false): they do not fail for a death
   * that was not their own. Without a guest to be had, they fail with why.
   */
  private async relaunch(request: WorkerRequest): Promise<void> {
    try {
      const warm = await (this.context as UmlPoolContext).guests.lease()
      this.attach(warm)
      if (this.startRequest) {
        const started = new Promise<void>((resolve) => {
          this.replayedStart = () => {
            this.replayedStart = undefined
            resolve()
          }
        })
        this.process?.send(this.startRequest)
        await started
      }
      this.process?.send(request)
    } catch (error) {
      await this.reportLostFiles(error as Error)
    }
  }

  on(event: string, callback: (arg: unknown) => void): void {
    this.events.on(event, callback)
  }

  off(event: string, callback: (arg: unknown) => void): void {
    this.events.off(event, callback)
  }

  deserialize(data: unknown): unknown {
    return data
  }

  async stop(): Promise<void> {
    const stopping = performance.now()
    this.stopping = true
    this.clearHangTimer()
    const process = this.process
    if (process && !process.exited) {
      const exited = new Promise((resolve) => process.once('exit', resolve))
      process.kill('SIGTERM')
      await Promise.race([exited, delay(STOP_GRACE_MS, undefined, { ref: false })])
    }
    await this.guest?.dispose()
    this.process = undefined
    this.guest = undefined
    recordTiming('teardown', performance.now() - stopping)
  }

  /** A file that runs past `fileTimeout` is deemed hung: its guest is stopped and the file fails. */
  private armHangTimer(): void {
    this.clearHangTimer()
    const fileTimeout = this.context?.settings.options.fileTimeout
    if (fileTimeout === undefined) return
    this.hangTimer = setTimeout(() => {
      const guest = this.guest
      const error = new UmlError(
        'UML_GUEST_HUNG',
        `A test file ran longer than fileTimeout (${fileTimeout} ms), so its guest was stopped. Raise fileTimeout in the uml() options if it needs longer.\nConsole (last lines):\n${guest?.consoleTail() ?? ''}`,
        { details: { consoleTail: guest?.consoleTail(), fileTimeout } },
      )
      this.hangError = error
      void guest?.dispose()
    }, fileTimeout)
  }

  /** Hands Vitest the coverage of Node processes the file started, then the file's end. */
  private async forwardAfterChildCoverage(guest: Guest, files: string[], finished: unknown): Promise<void> {
    const coverage = await childCoverageMessage(guest, this.options.project, files).catch(() => undefined)
    if (coverage) {
      this.events.emit('message', coverage)
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.events.emit('message', finished)
  }

  /** Reports the files of the run in progress as failed with the guest's error, as Vitest's worker would. */
  private async reportLostFiles(error: Error): Promise<void> {
    const files = this.runningFiles
    this.runningFiles = []
    const createFileTask = this.context?.settings.createFileTask
    if (!createFileTask) return this.emitError(error)
    const { project } = this.options
    const state = (path: string) =>
      project.vitest.state.idMap.get(createFileTask(path, project.config.root, project.name, 'uml').id)?.result?.state
    // A run can hold several files (isolate: false). Those done keep their results; the one the
    // guest died under fails; those not begun yet run on a fresh guest.
    const unfinished = files.filter((path) => !SETTLED_STATES.has(state(path) ?? ''))
    const begun = unfinished.filter((path) => state(path) === 'run')
    const failed = begun.length > 0 ? begun : unfinished.slice(0, 1)
    const pending = unfinished.filter((path) => !failed.includes(path))
    const request = this.fileRequest
    const retry = pending.length > 0 && request !== undefined
    for (const message of lostFileMessages(project, failed, error, createFileTask, { finished: !retry })) {
      this.events.emit('message', message)
      // Vitest handles each request asynchronously: let one land before the next.
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (retry) {
      const rest = request.context.files.filter((file) => pending.includes(file.filepath))
      this.noteFiles(rest.map((file) => file.filepath))
      await this.relaunch({ ...request, context: { ...request.context, files: rest } } as WorkerRequest)
    }
  }

  /** Vitest listens for errors only while the worker runs; an error with no listener would throw. */
  private emitError(error: Error): void {
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error)
  }

  /** Answers a request in the worker's stead, once the guest is gone. */
  private respond(type: 'started' | 'stopped'): void {
    this.awaitingStarted = false
    setImmediate(() => this.events.emit('message', { __vitest_worker_response__: true, type }))
  }

  private clearHangTimer(): void {
    clearTimeout(this.hangTimer)
    this.hangTimer = undefined
  }
}

/** The Vitest worker died while the guest lived: the kernel's OOM killer, or a crash the console may show. */
function workerExitError(guest: Guest, code: number | null, signal: string | null): UmlError {
  const consoleTail = guest.consoleTail()
  const status = signal ? `signal ${signal}` : `exit status ${code}`
  const details = { consoleTail, code, signal }
  if (/Out of memory|oom-kill/i.test(consoleTail)) {
    return new UmlError(
      'UML_GUEST_OUT_OF_MEMORY',
      `The guest ran out of memory and its kernel killed the test worker (${status}). Raise \`memory\` in the uml() options, or use less.\nConsole (last lines):\n${consoleTail}`,
      { details },
    )
  }
  return new UmlError(
    'UML_WORKER_EXITED',
    `The test worker in the guest exited unexpectedly (${status}).\nConsole (last lines):\n${consoleTail}`,
    { details },
  )
}

function sameLaunch(a: WorkerLaunch, b: WorkerLaunch): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}

function isWorkerResponse(message: unknown, type: string): boolean {
  const response = message as { __vitest_worker_response__?: boolean; type?: string }
  return response?.__vitest_worker_response__ === true && response.type === type
}
