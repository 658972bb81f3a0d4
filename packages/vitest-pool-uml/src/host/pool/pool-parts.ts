import type { TestProject } from 'vitest/node'
import { parsePoolOptions } from './parse-pool-options.js'
import type { UmlPoolOptions } from './pool-options.js'
import { createPoolContext, type UmlPoolContext } from './uml-pool-context.js'
import { projectVitest, useSnapshotEnvironment } from './vitest-internals.js'

/**
 * Checks the options and the project's Vitest, then starts preparing the pool's guests. A bad
 * option or an unsupported Vitest throws before anything boots.
 */
export function preparePool(project: TestProject, input: UmlPoolOptions): Promise<UmlPoolContext> {
  const options = parsePoolOptions(input, project.vite.config.configFile || undefined)
  const vitest = projectVitest(project.config.root)
  const context = createPoolContext(project, options, vitest)
  useSnapshotEnvironment(project, vitest.minor)
  return context
}
