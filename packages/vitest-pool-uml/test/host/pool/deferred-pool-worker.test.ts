import { describe, expect, it, vi } from 'vitest'
import type { PoolWorker, WorkerRequest } from 'vitest/node'
import { DeferredPoolWorker } from '../../../src/host/pool/deferred-pool-worker.js'

const fakeWorker = () =>
  ({
    name: 'uml',
    start: vi.fn(async () => {}),
    stop: vi.fn(async () => {}),
    send: vi.fn(),
    on: vi.fn(),
    off: vi.fn(),
    deserialize: vi.fn((data: unknown) => ({ data })),
  }) satisfies PoolWorker

const request = { type: 'cancel' } as unknown as WorkerRequest

describe('DeferredPoolWorker', () => {
  it('starts, listens, sends and stops through the worker once it has loaded', async () => {
    const worker = fakeWorker()
    const deferred = new DeferredPoolWorker(Promise.resolve(worker))
    expect(deferred.name).toBe('uml')
    expect(deferred.cacheFs).toBe(false)
    await deferred.start()
    const listener = () => {}
    deferred.on('message', listener)
    deferred.send(request)
    expect(deferred.deserialize(1)).toEqual({ data: 1 })
    deferred.off('message', listener)
    await deferred.stop()
    expect(worker.start).toHaveBeenCalledOnce()
    expect(worker.on).toHaveBeenCalledWith('message', listener)
    expect(worker.off).toHaveBeenCalledWith('message', listener)
    expect(worker.send).toHaveBeenCalledWith(request)
    expect(worker.stop).toHaveBeenCalledOnce()
  })

  it('hands on a message sent while loading once the worker is there', async () => {
    const worker = fakeWorker()
    const loads: ((loaded: PoolWorker) => void)[] = []
    const deferred = new DeferredPoolWorker(new Promise((resolve) => loads.push(resolve)))
    deferred.send(request)
    expect(() => deferred.on('message', () => {})).toThrow('This is a bug in vitest-pool-uml')
    loads[0]?.(worker)
    await deferred.start()
    expect(worker.send).toHaveBeenCalledWith(request)
  })

  it('fails its start with the loading error, and stops quietly after it', async () => {
    const deferred = new DeferredPoolWorker(Promise.reject(new Error('no parts')))
    await expect(deferred.start()).rejects.toThrow('no parts')
    await expect(deferred.stop()).resolves.toBeUndefined()
  })
})
