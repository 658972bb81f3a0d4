import type { PoolRunnerInitializer, TestProject } from 'vitest/node'
import { parsePoolOptions } from './parse-pool-options.js'
import type { UmlPoolOptions } from './pool-options.js'
import { createPoolContext, type UmlPoolContext } from './uml-pool-context.js'
import { UmlPoolWorker } from './uml-pool-worker.js'
import { projectVitest, useSnapshotEnvironment } from './vitest-internals.js'

export interface UmlPoolRunner extends PoolRunnerInitializer {
  /** Starts fetching, building and booting for a project ahead of its first test file. */
  prepare(project: TestProject): Promise<UmlPoolContext>
}

/**
 * The uml pool, for `test.pool: umlPool({...})`. Prefer the `uml()` plugin, which also makes
 * `vitest --pool=uml` work and starts booting guests while Vite starts.
 */
export function umlPool(input: UmlPoolOptions = {}): UmlPoolRunner {
  const contexts = new WeakMap<TestProject, Promise<UmlPoolContext>>()
  const prepare = (project: TestProject) => {
    let context = contexts.get(project)
    if (!context) {
      // Parsed and checked here, synchronously, so a bad option or an unsupported Vitest stops
      // Vitest before anything boots.
      const options = parsePoolOptions(input, project.vite.config.configFile || undefined)
      const vitest = projectVitest(project.config.root)
      context = createPoolContext(project, options, vitest)
      // A failure here is reported by each worker that needed the context.
      context.catch(() => {})
      contexts.set(project, context)
      useSnapshotEnvironment(project, vitest.minor)
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
