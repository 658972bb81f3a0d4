import type { PoolWorker, WorkerRequest } from 'vitest/node'
import { CACHE_FS, POOL_NAME } from './pool-identity.js'

/**
 * A pool worker whose implementation is still loading: Vitest creates workers synchronously, and
 * the pool's parts load only once a project runs in guests. Vitest starts a worker before it
 * listens to it or sends it anything; a message sent meanwhile (a cancel) follows once it is there.
 */
export class DeferredPoolWorker implements PoolWorker {
  readonly name = POOL_NAME
  readonly cacheFs = CACHE_FS
  private worker: PoolWorker | undefined
  private readonly loaded: Promise<PoolWorker>

  constructor(loading: Promise<PoolWorker>) {
    this.loaded = loading.then((worker) => {
      this.worker = worker
      return worker
    })
    // A failure to load is start()'s to report.
    this.loaded.catch(() => {})
  }

  async start(): Promise<void> {
    return (await this.loaded).start()
  }

  async stop(): Promise<void> {
    await (await this.loaded.catch(() => undefined))?.stop()
  }

  send(message: WorkerRequest): void {
    if (this.worker) this.worker.send(message)
    else
      void this.loaded.then(
        (worker) => worker.send(message),
        () => {},
      )
  }

  on(event: string, callback: (arg: unknown) => void): void {
    this.started().on(event, callback)
  }

  off(event: string, callback: (arg: unknown) => void): void {
    this.started().off(event, callback)
  }

  deserialize(data: unknown): unknown {
    return this.started().deserialize(data)
  }

  private started(): PoolWorker {
    if (!this.worker) throw new Error('A uml pool worker was used before it started. This is a bug in vitest-pool-uml.')
    return this.worker
  }
}
