import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { TestProject, WorkerRequest } from 'vitest/node'
import type { UmlError } from '../../../src/host/core/index.js'
import { WallClockTimeouts, withoutGuestTimeouts } from '../../../src/host/pool/wall-clock-timeouts.js'

interface FakeTask {
  type: string
  name: string
  timeout?: number
  tasks?: FakeTask[]
  result?: { state: string }
  projectName?: string
}

/** Only what WallClockTimeouts reads of a project: its timeouts and Vitest's task maps. */
function fakeProject(tasks: Record<string, FakeTask>, files: Record<string, FakeTask> = {}): TestProject {
  return {
    name: 'p',
    config: { testTimeout: 5000, hookTimeout: 10_000 },
    vitest: {
      state: {
        idMap: new Map(Object.entries(tasks)),
        filesMap: new Map(Object.entries(files).map(([path, file]) => [path, [{ ...file, projectName: 'p' }]])),
      },
    },
  } as unknown as TestProject
}

/** A task update as the worker in the guest sends it (a birpc request). */
function events(...pairs: [string, string][]): unknown {
  return { t: 'q', m: 'onTaskUpdate', a: [[], pairs.map(([id, event]) => [id, event, undefined])] }
}

describe('WallClockTimeouts', () => {
  let fired: UmlError[]
  let timeouts: WallClockTimeouts

  beforeEach(() => {
    vi.useFakeTimers()
    fired = []
    timeouts = new WallClockTimeouts(
      fakeProject({
        t1: { type: 'test', name: 'sleeps an hour', timeout: 0 },
        t2: { type: 'test', name: 'has its own', timeout: 20_000 },
        s1: { type: 'suite', name: 'the suite' },
      }),
      (error) => fired.push(error),
    )
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('fails a test body that runs past testTimeout on the host clock', () => {
    timeouts.observe(events(['t1', 'test-prepare']))
    vi.advanceTimersByTime(4999)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired.map((error) => error.code)).toEqual(['UML_TEST_TIMEOUT'])
    expect(fired[0]?.message).toContain('Test "sleeps an hour" ran longer than testTimeout (5000 ms of host time')
  })

  it('lets a test that finishes in time go, however much guest time it took', () => {
    timeouts.observe(events(['t1', 'test-prepare']))
    vi.advanceTimersByTime(4000)
    timeouts.observe(events(['t1', 'test-finished']))
    vi.advanceTimersByTime(60_000)
    expect(fired).toEqual([])
  })

  it("uses a test's own timeout, and hookTimeout for its hooks, re-arming the body after them", () => {
    timeouts.observe(events(['t2', 'test-prepare'], ['t2', 'before-hook-start']))
    vi.advanceTimersByTime(9000)
    timeouts.observe(events(['t2', 'before-hook-end']))
    vi.advanceTimersByTime(19_999)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired[0]?.message).toContain('Test "has its own" ran longer than its timeout (20000 ms')
  })

  it("fails a suite's hook past hookTimeout, and arms nothing when it ends", () => {
    timeouts.observe(events(['s1', 'before-hook-start']))
    vi.advanceTimersByTime(10_000)
    expect(fired[0]?.message).toContain('A hook of "the suite" ran longer than hookTimeout (10000 ms')
    timeouts.observe(events(['s1', 'before-hook-start'], ['s1', 'before-hook-end']))
    vi.advanceTimersByTime(60_000)
    expect(fired).toHaveLength(1)
  })

  it('forgets every timer when cleared, and ignores other messages, malformed events and unknown tasks', () => {
    timeouts.observe({ t: 'q', m: 'onCollected', a: [[]] })
    timeouts.observe({ t: 'q', m: 'onTaskUpdate', a: [[], [null, 'x', ['t1']]] })
    timeouts.observe(events(['not-collected', 'test-prepare']))
    vi.advanceTimersByTime(60_000)
    expect(fired).toEqual([])
    timeouts.observe(events(['t1', 'test-prepare']))
    timeouts.clear()
    vi.advanceTimersByTime(60_000)
    expect(fired).toEqual([])
  })
})

describe('WallClockTimeouts watching a file for silence', () => {
  const first = { type: 'test', name: 'first', result: { state: 'pass' } }
  const blocked = { type: 'test', name: 'blocks its worker', timeout: 0 }
  const long = { type: 'test', name: 'may take 20 s', timeout: 20_000 }
  let fired: UmlError[]

  beforeEach(() => {
    vi.useFakeTimers()
    fired = []
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('names the first unfinished test when the worker says nothing for the longest timeout that applies', () => {
    const file = { type: 'suite', name: 'a.test.ts', tasks: [first, blocked] }
    const timeouts = new WallClockTimeouts(fakeProject({}, { '/p/a.test.ts': file }), (error) => fired.push(error))
    timeouts.watch(['/p/a.test.ts'])
    vi.advanceTimersByTime(9000)
    timeouts.observe({ t: 'q', m: 'onTaskUpdate', a: [[], []] })
    vi.advanceTimersByTime(9999)
    expect(fired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(fired[0]?.message).toContain(
      'Test "blocks its worker" kept its worker from answering for longer than testTimeout and hookTimeout (10000 ms of host time)',
    )
  })

  it("waits as long as the longest timeout one of the file's tests has, and stops watching when cleared", () => {
    const file = { type: 'suite', name: 'b.test.ts', tasks: [long] }
    const timeouts = new WallClockTimeouts(fakeProject({}, { '/p/b.test.ts': file }), (error) => fired.push(error))
    timeouts.watch(['/p/b.test.ts'])
    vi.advanceTimersByTime(19_999)
    expect(fired).toEqual([])
    timeouts.clear()
    timeouts.observe({ t: 'q', m: 'onTaskUpdate', a: [[], []] })
    vi.advanceTimersByTime(60_000)
    expect(fired).toEqual([])
  })
})

describe('withoutGuestTimeouts', () => {
  it("turns Vitest's timeouts off in the start request only, leaving the original alone", () => {
    const config = { testTimeout: 5000, hookTimeout: 10_000, root: '/p' }
    const start = { __vitest_worker_request__: true, type: 'start', context: { config } } as unknown as WorkerRequest
    const changed = withoutGuestTimeouts(start) as { context: { config: typeof config } }
    expect(changed.context.config).toEqual({ testTimeout: 0, hookTimeout: 0, root: '/p' })
    expect(config.testTimeout).toBe(5000)
    const stop = { __vitest_worker_request__: true, type: 'stop' } as WorkerRequest
    expect(withoutGuestTimeouts(stop)).toBe(stop)
  })
})
