import { PassThrough } from 'node:stream'
import { setImmediate as tick } from 'node:timers/promises'
import { UmlError } from '@vitest-uml/core'
import { GuestProcess } from '@vitest-uml/guest'
import { expect, it } from 'vitest'
import { UmlPoolWorker } from '../src/uml-pool-worker.js'

/** A stand-in guest with its Vitest worker process, recording what the pool worker sends it. */
function fakeWarmGuest() {
  const received: unknown[] = []
  const process = new GuestProcess(
    (message) => received.push(message),
    () => {},
  )
  const guest = { alive: true, dispose: async () => {}, consoleTail: () => '' }
  return { guest, worker: process, received }
}

/** A pool worker over stand-in guests: what it tells Vitest and the guests is what is tested. */
async function startWorker(
  lease: () => Promise<ReturnType<typeof fakeWarmGuest>>,
  idMap: Map<string, unknown> = new Map(),
) {
  const project = {
    name: 'unit',
    config: { root: '/p' },
    vitest: {
      config: { coverage: { enabled: false } },
      logger: { outputStream: new PassThrough(), errorStream: new PassThrough() },
      state: { idMap },
    },
  }
  const createFileTask = (filepath: string) => ({ id: filepath, name: filepath, filepath, meta: {}, tasks: [] })
  const context = {
    settings: { options: { user: 'root', env: {}, fileTimeout: 60_000 }, root: '/p', guestEnv: {}, createFileTask },
    launch: undefined,
    guests: { lease, prepareWarm: () => {} },
  }
  const worker = new UmlPoolWorker({ project, env: {}, execArgv: [] } as never, Promise.resolve(context as never))
  const toVitest: unknown[] = []
  const errors: unknown[] = []
  worker.on('message', (message) => toVitest.push(message))
  worker.on('error', (error) => errors.push(error))
  await worker.start()
  return { worker, toVitest, errors }
}

const startRequest = { type: 'start', id: 1 }
const runRequest = { type: 'run', context: { files: [{ filepath: '/p/a.test.ts' }] } }
const response = (type: string) => ({ __vitest_worker_response__: true, type })
const killed = () => new UmlError('UML_GUEST_KILLED', 'killed from outside')

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
    throw new UmlError('UML_GUEST_BOOT_TIMEOUT', 'no guest came up')
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
  const idMap = new Map<string, unknown>([
    ['/p/a.test.ts', { id: '/p/a.test.ts', result: { state: 'pass' } }],
    ['/p/b.test.ts', { id: '/p/b.test.ts', result: { state: 'run' } }],
  ])
  const { worker, toVitest } = await startWorker(async () => guests.shift() ?? fakeWarmGuest(), idMap)
  const files = ['a', 'b', 'c'].map((name) => ({ filepath: `/p/${name}.test.ts` }))
  worker.send(startRequest as never)
  first.worker.emit('message', response('started'))
  worker.send({ type: 'run', context: { files } } as never)
  first.worker.emit('exit', { code: null, signal: null, error: killed() })
  for (let i = 0; i < 5; i++) await tick()

  const update = toVitest.find((message) => (message as { m?: string }).m === 'onTaskUpdate') as {
    a: [unknown[][], unknown[]]
  }
  expect(update.a[0].map(([id]) => id)).toEqual(['/p/b.test.ts'])
  expect(toVitest).not.toContainEqual(response('testfileFinished'))
  expect(second.received).toEqual([startRequest])
  second.worker.emit('message', response('started'))
  await tick()
  expect(second.received.at(-1)).toEqual({ type: 'run', context: { files: [{ filepath: '/p/c.test.ts' }] } })
})
