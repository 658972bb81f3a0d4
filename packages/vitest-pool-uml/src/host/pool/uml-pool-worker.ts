import { EventEmitter } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import type { PoolOptions, PoolWorker, WorkerRequest } from 'vitest/node'
import { isUmlError, UmlError } from '../core/index.js'
import type { Guest, GuestProcess } from '../guest/index.js'
import { CHILD_COVERAGE_DIR, collectChildCoverage, collectsChildCoverage } from './child-coverage.js'
import { FileStats } from './file-stats.js'
import { defaultFileTimeout } from './file-timeouts.js'
import { lowMemoryNote, readGuestMemory } from './guest-memory.js'
import type { WarmGuest } from './guest-pool.js'
import { CACHE_FS, POOL_NAME } from './pool-identity.js'
import { recordsTimings, recordTiming } from './timings.js'
import { forkWorker, type UmlPoolContext, type WorkerLaunch } from './uml-pool-context.js'
import {
  fileBegun,
  isWorkerResponse,
  lostFileMessages,
  nativeCoverageEvent,
  type WorkerResponseType,
  workerResponse,
} from './vitest-internals.js'
import { GuestWall } from './wall/guest-wall.js'
import { guestWorkerEnv } from './wall/worker-env.js'
import { WallClockTimeouts, withoutGuestTimeouts } from './wall-clock-timeouts.js'
import { canTransition, type GuestEnd, type WorkerState } from './worker-state.js'

/** Time the worker gets to exit after SIGTERM before its guest is powered off regardless. */
const STOP_GRACE_MS = 2000

/** Output a test file's worker may print (stdout and stderr) before the rest is dropped: bounds host memory. */
export const MAX_OUTPUT_BYTES_PER_FILE = 64 * 1024 * 1024

type FileRequest = Extract<WorkerRequest, { type: 'run' | 'collect' }>

/**
 * One Vitest pool worker: the real Vitest worker (`vitest/dist/workers/forks.js`, the project's
 * own copy) forked inside a leased guest, its IPC channel carried over the guest's serial line,
 * every message through the guest's wall (wall/guest-wall.ts). The worker runs in a fresh session
 * of the guest, which stopping hands on to the next file if the file ran cleanly (or, with
 * `freshKernel`, in the guest itself, which stopping disposes), so the next file starts on a
 * pristine system. Its life is one explicit state (worker-state.ts).
 */
export class UmlPoolWorker implements PoolWorker {
  readonly name = POOL_NAME
  readonly cacheFs = CACHE_FS
  private readonly events = new EventEmitter()
  private state: WorkerState = 'idle'
  private context: UmlPoolContext | undefined
  private launch: WorkerLaunch | undefined
  private guest: Guest | undefined
  private process: GuestProcess | undefined
  private wall: GuestWall | undefined
  /** How Vitest started this worker, to start a replacement the same way. */
  private startRequest: WorkerRequest | undefined
  /** The last run or collect request, to send the files a dead guest did not begin to a fresh one. */
  private fileRequest: FileRequest | undefined
  /** The files of the request in progress, reported failed if the guest dies under them. */
  private runningFiles: string[] = []
  /** Set when the pool ends the guest itself (a hang, a protocol violation): reported instead of the disposal. */
  private ending: GuestEnd | undefined
  /** While handing on: whether the guest's session ended cleanly, so that it serves the next file. */
  private handedOn: Promise<boolean> = Promise.resolve(false)
  /** Why the guest went, while `lost`: a file Vitest sends then goes to a fresh guest. */
  private lostCause: Error | undefined
  /** While relaunching: the fresh worker's `started` is not Vitest's to see. */
  private replayedStart: (() => void) | undefined
  private hangTimer: NodeJS.Timeout | undefined
  /** Bumped whenever the count of silence starts over or stops, so a check in flight knows it is stale. */
  private hangCount = 0
  /** When the worker last sent or printed anything (performance.now()). */
  private heardAt = 0
  private outputBytes = 0
  private startedAt = 0
  private fileStartedAt = 0
  /** The running file's costs, measured for `pnpm bench` only. */
  private fileStats: FileStats | undefined
  /** Under virtual time, Vitest's test and hook timeouts, kept on the host's clock. */
  private wallClockTimeouts: WallClockTimeouts | undefined

  constructor(
    private readonly options: PoolOptions,
    private readonly preparing: Promise<UmlPoolContext>,
  ) {}

  /** The state now; for tests and debugging. */
  get currentState(): WorkerState {
    return this.state
  }

  async start(): Promise<void> {
    this.moveTo('leasing')
    this.context = await this.preparing
    const { settings } = this.context
    const { project } = this.options
    if (settings.options.time === 'virtual') {
      this.wallClockTimeouts = new WallClockTimeouts(project, (error) => this.endGuest({ reason: 'hung', error }))
    }
    const coverage: Record<string, string> = collectsChildCoverage(project)
      ? { NODE_V8_COVERAGE: CHILD_COVERAGE_DIR }
      : {}
    this.launch = {
      execArgv: this.options.execArgv,
      env: guestWorkerEnv(
        this.options.env,
        { testEnv: { ...project.vitest.config.env, ...project.config.env }, viteEnv: project.vite.config.env },
        { ...settings.guestEnv, ...coverage, ...settings.options.env },
      ),
      user: settings.options.user,
    }
    if (!this.context.launch) {
      const launch = this.launch
      this.context.launch = launch
      // Guests that booted before the pool knew how to start workers get theirs now.
      const context = this.context
      this.context.guests.prepareWarm((warm) => {
        warm.worker ??= forkWorker(warm.guest, context, launch)
      })
    }
    this.wall = new GuestWall(settings.wall)
    const leasing = performance.now()
    const warm = await this.context.guests.lease()
    this.startedAt = performance.now()
    recordTiming('lease', this.startedAt - leasing)
    this.attach(warm)
    this.moveTo('attached')
  }

  send(request: WorkerRequest): void {
    const message = this.wallClockTimeouts ? withoutGuestTimeouts(request) : request
    if (message.type === 'run' || message.type === 'collect') {
      this.fileRequest = message
      this.noteFiles(message.context.files.map((file) => file.filepath))
    }
    if (message.type === 'start') this.startRequest = message
    switch (this.state) {
      case 'lost':
        if (message.type === 'start') this.respond('started')
        else if (message.type === 'stop') this.respond('stopped')
        else if (this.lostCause && this.runningFiles.length > 0) void this.relaunch(message)
        return
      case 'attached':
        if (message.type === 'start') this.moveTo('starting')
        break
      case 'ready':
        if (message.type === 'run' || message.type === 'collect') this.moveTo('running')
        // The worker may now exit by itself: that ends its session, not the guest's use.
        if (message.type === 'stop') this.beginStop()
        break
    }
    this.toWorker(message)
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
    if (this.state !== 'stopping' && this.state !== 'handing-on') this.beginStop()
    // Nothing more is taken from a guest that goes; one handed on stays behind the wall till its worker exits.
    if (this.state === 'stopping') this.ending ??= { reason: 'stopped' }
    this.clearHangTimer()
    const process = this.process
    if (process && !process.exited) {
      const exited = new Promise((resolve) => process.once('exit', resolve))
      process.kill('SIGTERM')
      await Promise.race([exited, delay(STOP_GRACE_MS, undefined, { ref: false })])
    }
    // A worker that outlived its grace, or a guest ended for cause, is not handed on.
    if (!process?.exited || !(await this.handedOn)) await this.guest?.dispose()
    this.process = undefined
    this.guest = undefined
    this.moveTo('stopped')
    recordTiming('teardown', performance.now() - stopping)
  }

  /**
   * Vitest is stopping this worker. Only a session whose file ended cleanly may serve another
   * (nothing left running, no hang, protocol violation or death, which end the guest): its guest
   * is promised to the pool at once, so the next file's lease takes it rather than booting one,
   * and comes to it once the worker's exit ended the session, every process of it with its init.
   */
  private beginStop(): void {
    const { guest, process, context } = this
    if (this.state !== 'ready' || this.ending || !context?.sessions || !guest || !process) {
      this.moveTo('stopping')
      return
    }
    this.moveTo('handing-on')
    this.handedOn = new Promise<boolean>((resolve) => {
      const ended = () => resolve(guest.alive && this.ending === undefined)
      if (process.exited) ended()
      else process.once('exit', ended)
    })
    context.guests.handBack(guest, this.handedOn)
  }

  /** Takes a leased guest and its Vitest worker (the one forked ahead of need if it still fits). */
  private attach({ guest, worker }: WarmGuest): void {
    const context = this.context as UmlPoolContext
    const launch = this.launch as WorkerLaunch
    const usable = worker && !worker.exited && context.launch !== undefined && sameLaunch(context.launch, launch)
    if (worker && !usable) worker.kill('SIGKILL')
    const process = usable ? worker : forkWorker(guest, context, launch)
    this.guest = guest
    this.process = process
    this.ending = undefined
    this.lostCause = undefined
    process.on('stdout', (data: Uint8Array) => this.print('stdout', data))
    process.on('stderr', (data: Uint8Array) => this.print('stderr', data))
    process.on('message', (message) => {
      if (process === this.process) this.fromWorker(message)
    })
    process.on('exit', ({ code, signal, error }) => {
      if (process === this.process) this.onGuestEnd(guest, code, signal, error)
    })
  }

  /** A message from the guest: through the wall, then to Vitest, back to the guest, or to the host's file service. */
  private fromWorker(raw: unknown): void {
    // Once the pool has ended a guest for cause, nothing more it sends is taken.
    if (this.ending) return
    this.fileStats?.fromWorker(raw)
    let verdict: ReturnType<GuestWall['inbound']>
    try {
      verdict = this.throughWall((wall) => wall.inbound(raw))
    } catch (error) {
      if (!isUmlError(error, 'UML_GUEST_PROTOCOL')) throw error
      this.endGuest({ reason: 'protocol', error })
      return
    }
    this.heardAt = performance.now()
    this.wallClockTimeouts?.observe(raw)
    const process = this.process as GuestProcess
    switch (verdict.to) {
      case 'nowhere':
        return
      case 'guest':
        process.send(verdict.message)
        return
      case 'host-fs':
        void (this.wall as GuestWall).serveHostFs(verdict.request).then((reply) => process.send(reply))
        return
    }
    const message = verdict.message
    if (isWorkerResponse(message, 'started')) {
      recordTiming('worker-ready', performance.now() - this.startedAt)
      if (this.replayedStart) {
        // Vitest had its answer from the worker this one replaces.
        this.replayedStart()
        return
      }
      if (this.state === 'starting') this.moveTo('ready')
    }
    if (isWorkerResponse(message, 'testfileFinished')) {
      recordTiming('file', performance.now() - this.fileStartedAt)
      void this.fileStats?.finish()
      this.fileStats = undefined
      this.clearHangTimer()
      const files = this.runningFiles
      this.runningFiles = []
      if (this.state === 'running') this.moveTo('ready')
      if (collectsChildCoverage(this.options.project)) {
        void this.forwardAfterChildCoverage(this.guest as Guest, process, files, message)
        return
      }
    }
    this.events.emit('message', message)
  }

  /** A message from Vitest to the worker, through the wall (which checks the module answers). */
  private toWorker(message: unknown): void {
    const checked = this.throughWall((wall) => wall.outbound(message))
    this.fileStats?.toWorker(checked)
    this.process?.send(checked)
  }

  /** One of the wall's checks, timed for `pnpm bench` while it measures. */
  private throughWall<T>(check: (wall: GuestWall) => T): T {
    const wall = this.wall as GuestWall
    return this.fileStats ? this.fileStats.timeWallCheck(() => check(wall)) : check(wall)
  }

  /** The worker's own output, up to the budget of a file: a guest cannot fill host memory with it. */
  private print(stream: 'stdout' | 'stderr', data: Uint8Array): void {
    const logger = this.options.project.vitest.logger
    const out = stream === 'stdout' ? logger.outputStream : logger.errorStream
    this.heardAt = performance.now()
    const before = this.outputBytes
    this.outputBytes += data.length
    if (this.outputBytes <= MAX_OUTPUT_BYTES_PER_FILE) out.write(data)
    else if (before <= MAX_OUTPUT_BYTES_PER_FILE) {
      out.write(
        `\n[vitest-uml: this test file printed more than ${MAX_OUTPUT_BYTES_PER_FILE} bytes; the rest is dropped]\n`,
      )
    }
  }

  /** The guest (or the worker in it) ended: says why, and answers for it what Vitest still waits on. */
  private onGuestEnd(guest: Guest, code: number | null, signal: string | null, error: Error | undefined): void {
    this.clearHangTimer()
    this.replayedStart?.()
    // Broke the protocol while Vitest stopped it: not handed on, and the run must not pass in silence.
    if (this.state === 'handing-on' && this.ending?.reason === 'protocol') this.emitError(this.ending.error)
    if (this.state === 'stopping' || this.state === 'handing-on' || this.state === 'stopped') return
    const end = this.ending ?? this.endOf(guest, code, signal, error)
    // A guest disposed by the pool closing is a shutdown, not a failure of the file.
    if (end.reason === 'died' && isUmlError(end.error, 'UML_GUEST_DISPOSED')) return
    const cause = 'error' in end ? end.error : undefined
    const state = this.state
    this.lostCause = cause
    this.moveTo('lost')
    if (!cause) this.events.emit('exit')
    else if (this.runningFiles.length > 0) void this.reportLostFiles(cause)
    // Died while Vitest waited for it to start: answered here; the file goes to a fresh guest.
    else if (state === 'starting') this.respond('started')
    // Broke the protocol between files: no file to fail, but the run must not pass in silence.
    else if (end.reason === 'protocol') this.emitError(cause)
  }

  private endOf(guest: Guest, code: number | null, signal: string | null, error: Error | undefined): GuestEnd {
    if (error) return { reason: 'died', error }
    const busy = this.runningFiles.length > 0 || this.state === 'starting'
    return { reason: 'worker-exited', ...(busy && { error: workerExitError(guest, code, signal) }) }
  }

  /** The pool ends the guest itself; the file fails with why (see onGuestEnd). */
  private endGuest(end: GuestEnd): void {
    if (this.ending) return
    this.ending = end
    void this.guest?.dispose()
  }

  /** Files now sent to the worker: reported failed if the guest dies under them, or if they hang. */
  private noteFiles(files: string[]): void {
    this.fileStartedAt = performance.now()
    if (recordsTimings && this.guest) this.fileStats = new FileStats(this.guest)
    this.outputBytes = 0
    this.runningFiles = files
    this.wall?.admitFiles(files)
    this.armHangTimer()
    this.wallClockTimeouts?.watch(files)
  }

  /**
   * Sends files to a fresh guest and worker, started as Vitest started this one, after the guest
   * died before they began (before their run came, under an earlier file of the same run, or under
   * an earlier run of a runner Vitest reuses with isolate: false): they do not fail for a death
   * that was not their own. Without a guest to be had, they fail with why.
   */
  private async relaunch(request: WorkerRequest): Promise<void> {
    this.moveTo('relaunching')
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
        this.toWorker(this.startRequest)
        await started
      }
      if (this.state !== 'relaunching') return
      this.moveTo('running')
      this.toWorker(request)
    } catch (error) {
      if (this.state === 'relaunching') this.moveTo('lost')
      await this.reportLostFiles(error as Error)
    }
  }

  /**
   * A file whose worker goes silent (sends nothing, prints nothing) for longer than `fileTimeout`
   * is deemed hung: its guest is stopped and the file fails. Each word from the worker restarts
   * the count; the timer only checks, so that costs nothing per message.
   */
  private armHangTimer(): void {
    this.clearHangTimer()
    this.heardAt = performance.now()
    const check = (): void => {
      const limit = this.hangLimit()
      if (limit === undefined) return
      const silent = performance.now() - this.heardAt
      if (silent < limit) {
        this.hangTimer = setTimeout(check, limit - silent)
        return
      }
      void this.stopHung(limit, check)
    }
    const limit = this.hangLimit()
    if (limit !== undefined) this.hangTimer = setTimeout(check, limit)
  }

  /**
   * Stops a guest whose worker was silent past the limit, saying how full its memory was. Should
   * the worker speak, or its guest end, while that is read, the silence is over: checked again.
   */
  private async stopHung(limit: number, check: () => void): Promise<void> {
    const guest = this.guest
    const { heardAt, hangCount } = this
    const memory = guest?.alive ? await readGuestMemory(guest) : undefined
    // A new count has started (another file), or none runs any more (the guest ended, or stopped).
    const stale = this.hangCount !== hangCount || this.guest !== guest || this.runningFiles.length === 0
    if (stale || !guest?.alive || this.ending) return
    // Heard from meanwhile: silent no longer.
    if (this.heardAt !== heardAt) return check()
    const consoleTail = guest.consoleTail()
    const which =
      this.context?.settings.options.fileTimeout === undefined
        ? "fileTimeout's default: six times the longest of testTimeout, hookTimeout and its tests' own timeouts"
        : 'fileTimeout'
    const error = new UmlError(
      'UML_GUEST_HUNG',
      `A test file's worker sent and printed nothing for ${limit} ms (${which}): code that never yields, such as a busy loop or a blocking call, kept it from answering, so its guest was stopped. Raise fileTimeout in the uml() options if it needs longer.${lowMemoryNote(memory)}`,
      { details: { consoleTail, fileTimeout: limit, memory }, evidence: `Console (last lines):\n${consoleTail}` },
    )
    this.endGuest({ reason: 'hung', error })
  }

  /** The silence after which the running files are deemed hung: fileTimeout, or its default for them. */
  private hangLimit(): number | undefined {
    return this.context?.settings.options.fileTimeout ?? defaultFileTimeout(this.options.project, this.runningFiles)
  }

  /** Hands Vitest the coverage of Node processes the file started, then the file's end. */
  private async forwardAfterChildCoverage(
    guest: Guest,
    worker: GuestProcess,
    files: string[],
    finished: unknown,
  ): Promise<void> {
    const { project } = this.options
    const session = this.context?.sessions ? worker : undefined
    const scripts = await collectChildCoverage(guest, project, session).catch(() => [])
    const projectScripts = (this.wall as GuestWall).projectScripts(scripts)
    if (projectScripts.length > 0) {
      this.events.emit('message', nativeCoverageEvent(project, projectScripts, files))
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.events.emit('message', finished)
  }

  /** Reports the files of the run in progress as failed with the guest's error, as Vitest's worker would. */
  private async reportLostFiles(error: Error): Promise<void> {
    const files = this.runningFiles
    this.runningFiles = []
    const { project } = this.options
    const runtime = this.context?.settings.runtime
    if (!runtime) return this.emitError(error)
    // A run can hold several files (isolate: false). Those done keep their results; the one the
    // guest died under fails; those not begun yet run on a fresh guest.
    const unfinished = files.filter((path) => !this.wall?.hasEnded(path))
    const begun = unfinished.filter((path) => fileBegun(project, runtime, path))
    const failed = begun.length > 0 ? begun : unfinished.slice(0, 1)
    // All had ended (the guest broke the protocol after): no file to fail, but no silence either.
    if (failed.length === 0) this.emitError(error)
    const pending = unfinished.filter((path) => !failed.includes(path))
    const request = this.fileRequest
    const retry = pending.length > 0 && request !== undefined
    for (const message of lostFileMessages(project, runtime, failed, error, { finished: !retry })) {
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
  private respond(type: WorkerResponseType): void {
    setImmediate(() => this.events.emit('message', workerResponse(type)))
  }

  private moveTo(next: WorkerState): void {
    if (!canTransition(this.state, next)) {
      throw new Error(`A uml pool worker cannot go from ${this.state} to ${next}. This is a bug in vitest-pool-uml.`)
    }
    this.state = next
  }

  private clearHangTimer(): void {
    this.hangCount++
    clearTimeout(this.hangTimer)
    this.hangTimer = undefined
    this.wallClockTimeouts?.clear()
  }
}

/** The Vitest worker died while the guest lived: the kernel's OOM killer, or a crash the console may show. */
function workerExitError(guest: Guest, code: number | null, signal: string | null): UmlError {
  const consoleTail = guest.consoleTail()
  const status = signal ? `signal ${signal}` : `exit status ${code}`
  const options = { details: { consoleTail, code, signal }, evidence: `Console (last lines):\n${consoleTail}` }
  if (/Out of memory|oom-kill/i.test(consoleTail)) {
    return new UmlError(
      'UML_GUEST_OUT_OF_MEMORY',
      `The guest ran out of memory and its kernel killed the test worker (${status}). Raise \`memory\` in the uml() options, or use less.`,
      options,
    )
  }
  return new UmlError('UML_WORKER_EXITED', `The test worker in the guest exited unexpectedly (${status}).`, options)
}

function sameLaunch(a: WorkerLaunch, b: WorkerLaunch): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}
