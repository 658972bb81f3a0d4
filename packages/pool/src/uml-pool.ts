import { createRequire } from 'node:module'
import type { PoolRunnerInitializer, TestProject } from 'vitest/node'
import { parsePoolOptions } from './parse-pool-options.js'
import type { UmlPoolOptions } from './pool-options.js'
import { createPoolContext, type UmlPoolContext } from './uml-pool-context.js'
import { UmlPoolWorker } from './uml-pool-worker.js'

export interface UmlPoolRunner extends PoolRunnerInitializer {
  /** Starts fetching, building and booting for a project ahead of its first test file. */
  prepare(project: TestProject): Promise<UmlPoolContext>
}

/** The snapshot environment that writes through the host (the project is read-only in guests). */
const SNAPSHOT_ENVIRONMENT = createRequire(import.meta.url).resolve('vitest-pool-uml/snapshot-environment')

/**
 * The uml pool, for `test.pool: umlPool({...})`. Prefer the `uml()` plugin, which also makes
 * `vitest --pool=uml` work and starts booting guests while Vite starts.
 */
export function umlPool(input: UmlPoolOptions = {}): UmlPoolRunner {
  const contexts = new WeakMap<TestProject, Promise<UmlPoolContext>>()
  const prepare = (project: TestProject) => {
    let context = contexts.get(project)
    if (!context) {
      // Parsed here, synchronously, so a bad option stops Vitest before anything boots.
      const options = parsePoolOptions(input, project.vite.config.configFile || undefined)
      context = createPoolContext(project, options)
      // A failure here is reported by each worker that needed the context.
      context.catch(() => {})
      contexts.set(project, context)
      project.config.snapshotEnvironment = SNAPSHOT_ENVIRONMENT
    }
    return context
  }
  return {
    name: 'uml',
    prepare,
    createPoolWorker(options) {
      return new UmlPoolWorker(options, prepare(options.project))
    },
  }
}
