import { PassThrough } from 'node:stream'
import { setImmediate as tick } from 'node:timers/promises'
import { expect, it, vi } from 'vitest'
import { UmlError } from '../../../src/host/core/index.js'
import { GuestProcess } from '../../../src/host/guest/index.js'
import { UmlPoolWorker } from '../../../src/host/pool/uml-pool-worker.js'
import { WORKER_RPC_METHODS } from '../../../src/host/pool/vitest-internals.js'

const MEMINFO = 'MemTotal:  2097152 kB\nMemFree:  1048576 kB\nMemAvailable:  1572864 kB\n'

/** A stand-in guest with its Vitest worker process, recording what the pool worker sends it. */
function fakeWarmGuest() {
  const received: unknown[] = []
  const process = new GuestProcess(
    (message) => received.push(message),
    () => {},
  )
  const guest = {
    alive: true,
    dispose: async () => {},
    consoleTail: () => '',
    // What a hung file's guest answers when asked how full its memory is.
    exec: async (_argv: string[]): Promise<unknown> => ({ exitCode: 0, signal: null, stdout: MEMINFO, stderr: '' }),
  }
  return { guest, worker: process, received }
}

/** A pool worker over stand-in guests: what it tells Vitest and the guests is what is tested. */
async function startWorker(
  lease: () => Promise<ReturnType<typeof fakeWarmGuest>>,
  idMap: Map<string, unknown> = new Map(),
  {
    fileTimeout,
    filesMap = new Map<string, unknown[]>(),
    sessions = false,
  }: { fileTimeout?: number; filesMap?: Map<string, unknown[]>; sessions?: boolean } = {
    fileTimeout: 60_000,
  },
) {
  const project = {
    name: 'unit',
    config: { root: '/p', env: {}, testTimeout: 5_000, hookTimeout: 10_000 },
    vite: { config: { env: {} } },
    vitest: {
      config: { coverage: { enabled: false }, env: {} },
      logger: { outputStream: new PassThrough(), errorStream: new PassThrough() },
      state: { idMap, filesMap },
    },
  }
  const createFileTask = (filepath: string) => ({ id: filepath, name: filepath, filepath, meta: {}, tasks: [] })
  const runtime = { createFileTask, parseStacktrace: () => [], rpcMethods: new Set(WORKER_RPC_METHODS) }
  const wall = { project, files: {}, runtime, snapshots: {} }
  const context = {
    settings: { options: { user: 'root', env: {}, fileTimeout }, root: '/p', guestEnv: {}, runtime, wall },
    launch: undefined,
    sessions,
    guests: {
      lease,
      prepareWarm: () => {},
      handBack: (guest: unknown, reusable: Promise<boolean>) => {
        void reusable.then((clean) => clean && handedOn.push(guest))
      },
    },
  }
  const handedOn: unknown[] = []
  const worker = new UmlPoolWorker({ project, env: {}, execArgv: [] } as never, Promise.resolve(context as never))
  const toVitest: unknown[] = []
  const errors: unknown[] = []
  worker.on('message', (message) => toVitest.push(message))
  worker.on('error', (error) => errors.push(error))
  await worker.start()
  return { worker, toVitest, errors, handedOn }
}

const startRequest = { type: 'start', id: 1 }
const runRequest = { type: 'run', context: { files: [{ filepath: '/p/a.test.ts' }] } }
const response = (type: string) => ({ __vitest_worker_response__: true, type })
const killed = () =>
  new UmlError('UML_GUEST_KILLED', 'killed from outside', { details: { consoleTail: '', commandLine: [] } })

it('runs the next file on a fresh guest, started as Vitest started the first, when the guest dies before it', async () => {
  const first = fakeWarmGuest()
  const second = fakeWarmGuest()
  const guests = [first, second]
  const { worker, toVitest, errors } = await startWorker(async () => guests.shift() ?? fakeWarmGuest())
  worker.send(startRequest as never)
  first.worker.emit('message', response('started'))
  first.worker.emit('exit', { code: null, signal: null, error: killed() })

  worker.send(runRequest as never)
  await tick()
  expect(second.received).toEqual([startRequest])
  second.worker.emit('message', response('started'))
  await tick()
  expect(second.received).toEqual([startRequest, runRequest])
  second.worker.emit('message', response('testfileFinished'))
  expect(toVitest).toEqual([response('started'), response('testfileFinished')])
  expect(errors).toEqual([])
})

it('answers start itself when the guest died while Vitest waited, then runs the file on a fresh guest', async () => {
  const first = fakeWarmGuest()
  const second = fakeWarmGuest()
  const guests = [first, second]
  const { worker, toVitest, errors } = await startWorker(async () => guests.shift() ?? fakeWarmGuest())
  worker.send(startRequest as never)
  first.worker.emit('exit', { code: null, signal: null, error: killed() })
  await tick()
  expect(toVitest).toEqual([response('started')])
  worker.send(runRequest as never)
  await tick()
  second.worker.emit('message', response('started'))
  await tick()
  expect(second.received).toEqual([startRequest, runRequest])
  expect(errors).toEqual([])
})

it('fails the file with the reason when no fresh guest can be had', async () => {
  const first = fakeWarmGuest()
  let leases = 0
  const { worker, toVitest } = await startWorker(async () => {
    leases++
    if (leases === 1) return first
    throw new UmlError('UML_GUEST_BOOT_TIMEOUT', 'no guest came up', { details: { consoleTail: '', commandLine: [] } })
  })
  worker.send(startRequest as never)
  first.worker.emit('message', response('started'))
  first.worker.emit('exit', { code: null, signal: null, error: killed() })
  worker.send(runRequest as never)
  for (let i = 0; i < 5; i++) await tick()
  const update = toVitest.find((message) => (message as { m?: string }).m === 'onTaskUpdate') as { a: unknown[][] }
  expect(JSON.stringify(update.a[0])).toContain('[UML_GUEST_BOOT_TIMEOUT] no guest came up')
  expect(toVitest.at(-1)).toEqual(response('testfileFinished'))
})

it('keeps the results of a run’s finished files, fails the one the guest died under, and runs the rest on a fresh guest', async () => {
  const first = fakeWarmGuest()
  const second = fakeWarmGuest()
  const guests = [first, second]
  // b is mid-run: a file-level beforeAll that failed has made its state `fail` already.
  const idMap = new Map<string, unknown>([
    ['/p/a.test.ts', { id: '/p/a.test.ts', result: { state: 'pass' } }],
    ['/p/b.test.ts', { id: '/p/b.test.ts', result: { state: 'fail' } }],
  ])
  const { worker, toVitest } = await startWorker(async () => guests.shift() ?? fakeWarmGuest(), idMap)
  const files = ['a', 'b', 'c'].map((name) => ({ filepath: `/p/${name}.test.ts` }))
  worker.send(startRequest as never)
  first.worker.emit('message', response('started'))
  worker.send({ type: 'run', context: { files } } as never)
  const aEnded = {
    t: 'q',
    m: 'onTaskUpdate',
    a: [[['/p/a.test.ts', { state: 'pass' }, {}]], [['/p/a.test.ts', 'suite-finished']]],
  }
  first.worker.emit('message', aEnded)
  first.worker.emit('exit', { code: null, signal: null, error: killed() })
  for (let i = 0; i < 5; i++) await tick()

  const update = toVitest.findLast((message) => (message as { m?: string }).m === 'onTaskUpdate') as {
    a: [unknown[][], unknown[]]
  }
  expect(update.a[0].map(([id]) => id)).toEqual(['/p/b.test.ts'])
  expect(toVitest).not.toContainEqual(response('testfileFinished'))
  expect(second.received).toEqual([startRequest])
  second.worker.emit('message', response('started'))
  await tick()
  expect(second.received.at(-1)).toEqual({ type: 'run', context: { files: [{ filepath: '/p/c.test.ts' }] } })
})

it('reports a guest that breaks the protocol after its file ended as an error, not in silence', async () => {
  const guest = fakeWarmGuest()
  const { worker, toVitest, errors } = await startWorker(async () => guest)
  worker.send(startRequest as never)
  guest.worker.emit('message', response('started'))
  worker.send(runRequest as never)
  const update = (event: string) => ({ t: 'q', m: 'onTaskUpdate', a: [[], [['/p/a.test.ts', event]]] })
  guest.worker.emit('message', update('suite-finished'))
  guest.worker.emit('message', update('test-finished'))
  guest.worker.emit('exit', { code: null, signal: null })
  for (let i = 0; i < 5; i++) await tick()
  expect(errors).toEqual([expect.objectContaining({ code: 'UML_GUEST_PROTOCOL' })])
  expect(toVitest.at(-1)).toEqual(response('testfileFinished'))
})

it('goes through its states as Vitest drives it, and stops for good', async () => {
  const guest = fakeWarmGuest()
  const { worker } = await startWorker(async () => guest)
  expect(worker.currentState).toBe('attached')
  worker.send(startRequest as never)
  expect(worker.currentState).toBe('starting')
  guest.worker.emit('message', response('started'))
  expect(worker.currentState).toBe('ready')
  worker.send(runRequest as never)
  expect(worker.currentState).toBe('running')
  guest.worker.emit('message', response('testfileFinished'))
  expect(worker.currentState).toBe('ready')
  guest.worker.emit('exit', { code: 0, signal: null })
  const stopping = worker.stop()
  await stopping
  expect(worker.currentState).toBe('stopped')
  await expect(worker.stop()).rejects.toThrow(/cannot go from stopped to stopping. This is a bug/)
})

it('stops a guest that breaks the protocol, takes nothing more from it, and fails its file with why', async () => {
  const first = fakeWarmGuest()
  let disposed = false
  first.guest.dispose = async () => {
    disposed = true
    first.worker.emit('exit', { code: null, signal: null, error: new UmlError('UML_GUEST_DISPOSED', 'disposed') })
  }
  const { worker, toVitest } = await startWorker(async () => first)
  worker.send(startRequest as never)
  first.worker.emit('message', response('started'))
  worker.send(runRequest as never)
  first.worker.emit('message', { t: 'q', m: 'constructor', a: [], i: '1' })
  first.worker.emit('message', response('testfileFinished'))
  for (let i = 0; i < 5; i++) await tick()
  expect(disposed).toBe(true)
  expect(worker.currentState).toBe('lost')
  const update = toVitest.find((message) => (message as { m?: string }).m === 'onTaskUpdate') as { a: unknown[][] }
  expect(JSON.stringify(update.a[0])).toContain('UML_GUEST_PROTOCOL')
  // The guest's own `testfileFinished` after the violation was not taken: the pool's own ends the file.
  expect(
    toVitest.filter((message) => JSON.stringify(message) === JSON.stringify(response('testfileFinished'))),
  ).toHaveLength(1)
})

/** A guest whose disposal ends its worker, as a real one's does; says whether it was disposed. */
function disposableGuest() {
  const warm = fakeWarmGuest()
  const disposal = { done: false }
  warm.guest.dispose = async () => {
    disposal.done = true
    warm.worker.emit('exit', { code: null, signal: null, error: new UmlError('UML_GUEST_DISPOSED', 'disposed') })
  }
  return { ...warm, disposal }
}

it("deems a file hung when its worker says nothing for fileTimeout's default, counted from its last word", async () => {
  vi.useFakeTimers()
  try {
    const warm = disposableGuest()
    const { worker, toVitest } = await startWorker(async () => warm, new Map(), {})
    worker.send(startRequest as never)
    warm.worker.emit('message', response('started'))
    worker.send(runRequest as never)
    // testTimeout 5 s, hookTimeout 10 s: the default is 6 x 10 s of silence.
    await vi.advanceTimersByTimeAsync(50_000)
    warm.worker.emit('stdout', Buffer.from('still working\n'))
    await vi.advanceTimersByTimeAsync(59_000)
    expect(warm.disposal.done).toBe(false)
    await vi.advanceTimersByTimeAsync(1_001)
    expect(warm.disposal.done).toBe(true)
    const update = toVitest.find((message) => (message as { m?: string }).m === 'onTaskUpdate') as { a: unknown[][] }
    expect(JSON.stringify(update.a[0])).toContain(
      "[UML_GUEST_HUNG] A test file's worker sent and printed nothing for 60000 ms",
    )
  } finally {
    vi.useRealTimers()
  }
})

it("says when a hung file's guest was nearly out of memory, and lets a worker that speaks while it is asked go on", async () => {
  vi.useFakeTimers()
  try {
    const full = disposableGuest()
    full.guest.exec = async () => ({
      exitCode: 0,
      signal: null,
      stdout: 'MemTotal: 163840 kB\nMemAvailable: 12288 kB\n',
      stderr: '',
    })
    const hung = await startWorker(async () => full, new Map(), { fileTimeout: 5_000 })
    hung.worker.send(startRequest as never)
    full.worker.emit('message', response('started'))
    hung.worker.send(runRequest as never)
    await vi.advanceTimersByTimeAsync(5_001)
    expect(full.disposal.done).toBe(true)
    const update = hung.toVitest.find((message) => (message as { m?: string }).m === 'onTaskUpdate') as {
      a: unknown[][]
    }
    expect(JSON.stringify(update.a[0])).toContain('Its guest had only 12 MiB of memory left (MemAvailable)')

    // The worker prints while its guest is asked: silent no longer, so the count starts again.
    const slow = disposableGuest()
    let answer = (_: unknown) => {}
    slow.guest.exec = () =>
      new Promise((resolve) => {
        answer = resolve
      })
    const spoke = await startWorker(async () => slow, new Map(), { fileTimeout: 5_000 })
    spoke.worker.send(startRequest as never)
    slow.worker.emit('message', response('started'))
    spoke.worker.send(runRequest as never)
    await vi.advanceTimersByTimeAsync(5_001)
    slow.worker.emit('stdout', Buffer.from('still working\n'))
    answer({ exitCode: 0, signal: null, stdout: MEMINFO, stderr: '' })
    await vi.advanceTimersByTimeAsync(4_000)
    expect(slow.disposal.done).toBe(false)
    // Silent past the limit again, and this time the guest does not answer: stopped 2 s later.
    await vi.advanceTimersByTimeAsync(2_500)
    expect(slow.disposal.done).toBe(false)
    await vi.advanceTimersByTimeAsync(600)
    expect(slow.disposal.done).toBe(true)
  } finally {
    vi.useRealTimers()
  }
})

it('gives a file whose tests set longer timeouts of their own a longer silence, and takes fileTimeout as given', async () => {
  vi.useFakeTimers()
  try {
    const file = { projectName: 'unit', type: 'suite', tasks: [{ type: 'test', timeout: 60_000 }] }
    const filesMap = new Map([['/p/a.test.ts', [file]]])
    const own = disposableGuest()
    const started = await startWorker(async () => own, new Map(), { filesMap })
    started.worker.send(startRequest as never)
    own.worker.emit('message', response('started'))
    started.worker.send(runRequest as never)
    await vi.advanceTimersByTimeAsync(359_000)
    expect(own.disposal.done).toBe(false)
    await vi.advanceTimersByTimeAsync(1_001)
    expect(own.disposal.done).toBe(true)

    const given = disposableGuest()
    const explicit = await startWorker(async () => given, new Map(), { fileTimeout: 5_000, filesMap })
    explicit.worker.send(startRequest as never)
    given.worker.emit('message', response('started'))
    explicit.worker.send(runRequest as never)
    await vi.advanceTimersByTimeAsync(5_001)
    expect(given.disposal.done).toBe(true)
  } finally {
    vi.useRealTimers()
  }
})

/** A guest in whose session the worker ends on SIGTERM, as Vitest's does. */
function sessionGuest() {
  const warm = disposableGuest()
  const worker = new GuestProcess(
    (message) => warm.received.push(message),
    () => worker.emit('exit', { code: null, signal: 'SIGTERM' }),
  )
  return { ...warm, worker }
}

it('hands its guest on to the next file after a clean file in a session, and disposes it otherwise', async () => {
  const runFile = async (
    sessions: boolean,
    end: (guest: ReturnType<typeof sessionGuest>) => void,
    beforeStop: (worker: UmlPoolWorker, guest: ReturnType<typeof sessionGuest>) => void = () => {},
  ) => {
    const guest = sessionGuest()
    const started = await startWorker(async () => guest, new Map(), { fileTimeout: 60_000, sessions })
    started.worker.send(startRequest as never)
    guest.worker.emit('message', response('started'))
    started.worker.send(runRequest as never)
    end(guest)
    for (let i = 0; i < 5; i++) await tick()
    beforeStop(started.worker, guest)
    await started.worker.stop()
    await tick()
    return {
      handedOn: started.handedOn.length > 0,
      disposed: guest.disposal.done,
      state: started.worker.currentState,
      errors: started.errors.length,
    }
  }
  const finished = (guest: ReturnType<typeof sessionGuest>) =>
    guest.worker.emit('message', response('testfileFinished'))
  expect(await runFile(true, finished)).toEqual({ handedOn: true, disposed: false, state: 'stopped', errors: 0 })
  // Vitest's worker may exit by itself once it answered Vitest's stop request.
  const exitsAfterStop = await runFile(true, finished, (worker, guest) => {
    worker.send({ type: 'stop' } as never)
    guest.worker.emit('message', response('stopped'))
    guest.worker.emit('exit', { code: 0, signal: null })
  })
  expect(exitsAfterStop).toEqual({ handedOn: true, disposed: false, state: 'stopped', errors: 0 })
  // The wall still holds while it is handed on: a violation then ends the guest.
  const violatesAfterStop = await runFile(true, finished, (worker, guest) => {
    worker.send({ type: 'stop' } as never)
    guest.worker.emit('message', { t: 'q', m: 'constructor', a: [], i: '1' })
  })
  expect(violatesAfterStop).toEqual({ handedOn: false, disposed: true, state: 'stopped', errors: 1 })
  // A fresh kernel per file: the guest goes.
  expect(await runFile(false, finished)).toMatchObject({ handedOn: false, disposed: true, state: 'stopped' })
  // Stopped with its file still running (Vitest cancelled it): whatever it left may still run.
  expect(await runFile(true, () => {})).toMatchObject({ handedOn: false, disposed: true, state: 'stopped' })
  // A protocol violation ends the guest: it never serves again.
  const violation = await runFile(true, (guest) => {
    guest.worker.emit('message', { t: 'q', m: 'constructor', a: [], i: '1' })
    finished(guest)
  })
  expect(violation).toMatchObject({ handedOn: false, disposed: true, state: 'stopped' })
  // Nor does one whose worker died under its file.
  const died = await runFile(true, (guest) => guest.worker.emit('exit', { code: null, signal: 'SIGKILL' }))
  expect(died.handedOn).toBe(false)
})
