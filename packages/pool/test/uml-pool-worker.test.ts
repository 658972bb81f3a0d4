import { PassThrough } from 'node:stream'
import { setImmediate as tick } from 'node:timers/promises'
import { UmlError } from '@vitest-uml/core'
import { GuestProcess } from '@vitest-uml/guest'
import { expect, it } from 'vitest'
import { UmlPoolWorker } from '../src/uml-pool-worker.js'

/** A pool worker over a stand-in guest and worker process: what it tells Vitest is what is tested. */
async function startWorker() {
  const toGuest: unknown[] = []
  const process = new GuestProcess(
    (message) => toGuest.push(message),
    () => {},
  )
  const guest = { alive: true, dispose: async () => {}, consoleTail: () => '' }
  const project = {
    name: 'unit',
    config: { root: '/p' },
    vitest: {
      config: { coverage: { enabled: false } },
      logger: { outputStream: new PassThrough(), errorStream: new PassThrough() },
      state: { idMap: new Map() },
    },
  }
  const createFileTask = (filepath: string) => ({ id: filepath, name: filepath, filepath, meta: {}, tasks: [] })
  const context = {
    settings: { options: { user: 'root', env: {}, fileTimeout: 60_000 }, root: '/p', guestEnv: {}, createFileTask },
    launch: undefined,
    guests: { lease: async () => ({ guest, worker: process }), prepareWarm: () => {} },
  }
  const worker = new UmlPoolWorker({ project, env: {}, execArgv: [] } as never, Promise.resolve(context as never))
  const toVitest: unknown[] = []
  const errors: unknown[] = []
  worker.on('message', (message) => toVitest.push(message))
  worker.on('error', (error) => errors.push(error))
  await worker.start()
  return { worker, process, toGuest, toVitest, errors }
}

const runRequest = { type: 'run', context: { files: [{ filepath: '/p/a.test.ts' }] } }

it('fails the file with the cause when the guest dies after Vitest sent start, before the file', async () => {
  const { worker, process, toGuest, toVitest, errors } = await startWorker()
  worker.send({ type: 'start' } as never)
  expect(toGuest).toEqual([{ type: 'start' }])
  process.emit('exit', { code: null, signal: null, error: new UmlError('UML_GUEST_KILLED', 'killed from outside') })
  await tick()
  expect(toVitest).toEqual([{ __vitest_worker_response__: true, type: 'started' }])

  worker.send(runRequest as never)
  await tick()
  await tick()
  const update = toVitest.find((message) => (message as { m?: string }).m === 'onTaskUpdate') as { a: unknown[][] }
  expect(JSON.stringify(update.a[0])).toContain('[UML_GUEST_KILLED] killed from outside')
  expect(toVitest.at(-1)).toEqual({ __vitest_worker_response__: true, type: 'testfileFinished' })
  expect(toGuest).toHaveLength(1)

  worker.send({ type: 'stop' } as never)
  await tick()
  expect(toVitest.at(-1)).toEqual({ __vitest_worker_response__: true, type: 'stopped' })
  expect(errors).toEqual([])
})

it('answers start itself when the guest died before Vitest sent it', async () => {
  const { worker, process, toGuest, toVitest, errors } = await startWorker()
  process.emit('exit', { code: null, signal: null, error: new UmlError('UML_GUEST_KILLED', 'killed from outside') })
  worker.send({ type: 'start' } as never)
  await tick()
  expect(toVitest).toEqual([{ __vitest_worker_response__: true, type: 'started' }])
  expect(toGuest).toEqual([])
  expect(errors).toEqual([])
})
