import type { TestProject, WorkerRequest } from 'vitest/node'
import { UmlError } from '../core/index.js'
import { collectedTests, isLimit, longestTimeout, ownTimeout } from './file-timeouts.js'
import { collectedTask, taskPhaseChanges } from './vitest-internals.js'

/**
 * Under virtual time the guest's clock jumps whenever the guest is idle, also while it waits for
 * the host (a module to load, say), so a timeout kept by the guest's clock could fire by a jump.
 * The worker in the guest therefore runs with Vitest's testTimeout and hookTimeout off, and the
 * host keeps them on its own clock instead.
 */
export function withoutGuestTimeouts(request: WorkerRequest): WorkerRequest {
  if (request.type !== 'start') return request
  const config = { ...request.context.config, testTimeout: 0, hookTimeout: 0 }
  return { ...request, context: { ...request.context, config } }
}

type Phase = 'test' | 'hook' | 'silence'

/**
 * Keeps Vitest's test and hook timeouts on the host's clock for one pool worker. The worker in the
 * guest reports each test's and hook's start and end (`onTaskUpdate`, at least every 100 ms of
 * guest time): a test body gets its own timeout (or testTimeout), a hook hookTimeout. A worker
 * whose JavaScript is blocked (a busy loop, `execFileSync`) cannot report a start, so the files it
 * runs are also watched for silence: no message at all for longer than any timeout that could
 * apply. Either way `onTimeout` gets an error naming the test.
 */
export class WallClockTimeouts {
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private silence: NodeJS.Timeout | undefined
  private files: string[] = []

  constructor(
    private readonly project: TestProject,
    private readonly onTimeout: (error: UmlError) => void,
  ) {}

  /** The worker was sent these files: watch it for silence until clear(). */
  watch(files: string[]): void {
    this.files = files
    this.restartSilence()
  }

  /** Looks at one message from the worker: any message is progress; task updates arm and disarm. */
  observe(message: unknown): void {
    if (this.files.length > 0) this.restartSilence()
    for (const { taskId, phase } of taskPhaseChanges(message)) {
      this.disarm(taskId)
      if (phase !== 'none') this.arm(taskId, phase)
    }
  }

  clear(): void {
    for (const id of [...this.timers.keys()]) this.disarm(id)
    clearTimeout(this.silence)
    this.silence = undefined
    this.files = []
  }

  private arm(id: string, phase: 'test' | 'hook'): void {
    // Only tasks Vitest collected: what a guest sends cannot make the host keep unbounded timers.
    const task = collectedTask(this.project, id)
    if (!task || (phase === 'test' && task.type !== 'test')) return
    const own = phase === 'test' ? ownTimeout(task) : undefined
    const timeout = own ?? (phase === 'test' ? this.project.config.testTimeout : this.project.config.hookTimeout)
    if (!isLimit(timeout)) return
    const timer = setTimeout(() => {
      this.timers.delete(id)
      this.onTimeout(timedOut(task.name, phase, timeout, own !== undefined))
    }, timeout)
    timer.unref()
    this.timers.set(id, timer)
  }

  private disarm(id: string): void {
    clearTimeout(this.timers.get(id))
    this.timers.delete(id)
  }

  private restartSilence(): void {
    clearTimeout(this.silence)
    const limit = longestTimeout(this.project, this.files)
    if (!isLimit(limit)) return
    this.silence = setTimeout(() => {
      // Tests run in order: the first without a result is the one the blocked worker is in.
      const running = collectedTests(this.project, this.files).find(
        (test) => !test.result || test.result.state === 'run',
      )
      this.onTimeout(timedOut(running?.name, 'silence', limit, false))
    }, limit)
    this.silence.unref()
  }
}

function timedOut(name: string | undefined, phase: Phase, timeout: number, own: boolean): UmlError {
  const test = name === undefined ? 'A test' : `Test "${name}"`
  const limit = own ? 'its timeout' : phase === 'hook' ? 'hookTimeout' : 'testTimeout'
  const what =
    phase === 'silence'
      ? `${test} kept its worker from answering for longer than testTimeout and hookTimeout (${timeout} ms of host time)`
      : `${phase === 'test' ? test : `A hook of "${name}"`} ran longer than ${limit} (${timeout} ms of host time)`
  return new UmlError(
    'UML_TEST_TIMEOUT',
    `${what}; under time: 'virtual' the host keeps Vitest's timeouts, since the guest's clock jumps. Its guest was stopped and the rest of the file did not run. Raise ${own ? 'the timeout given to the test' : limit} if it needs longer.`,
    { details: { task: name ?? '', phase: phase === 'hook' ? 'hook' : 'test', timeout } },
  )
}
