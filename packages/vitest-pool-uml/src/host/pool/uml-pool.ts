import type { PoolRunnerInitializer, TestProject } from 'vitest/node'
import { DeferredPoolWorker } from './deferred-pool-worker.js'
import { POOL_NAME } from './pool-identity.js'
import type { UmlPoolOptions } from './pool-options.js'
import type { UmlPoolContext } from './uml-pool-context.js'

export interface UmlPoolRunner extends PoolRunnerInitializer {
  /** Starts fetching, building and booting for a project ahead of its first test file. */
  prepare(project: TestProject): Promise<UmlPoolContext>
}

/**
 * The pool's parts (about 250 modules with zod, a quarter of a second to load), loaded when a
 * project first needs them, so a config that has the plugin but runs another pool does not wait:
 * first what boots guests, then the worker's while they boot.
 */
const loadParts = () => import('./pool-parts.js')
const loadWorker = () => import('./uml-pool-worker.js')

/**
 * The uml pool, for `test.pool: umlPool({...})`. Prefer the `uml()` plugin, which also makes
 * `vitest --pool=uml` work and starts booting guests while Vite starts.
 */
export function umlPool(input: UmlPoolOptions = {}): UmlPoolRunner {
  const contexts = new WeakMap<TestProject, Promise<UmlPoolContext>>()
  const prepare = (project: TestProject) => {
    let context = contexts.get(project)
    if (!context) {
      context = loadParts().then(({ preparePool }) => preparePool(project, input))
      // A failure here is reported by each worker that needed the context.
      context.catch(() => {})
      contexts.set(project, context)
    }
    return context
  }
  return {
    name: POOL_NAME,
    prepare,
    createPoolWorker(options) {
      const preparing = prepare(options.project)
      return new DeferredPoolWorker(loadWorker().then(({ UmlPoolWorker }) => new UmlPoolWorker(options, preparing)))
    },
  }
}
