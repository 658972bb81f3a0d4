import type { Plugin } from 'vitest/config'
import { matrixPlugin } from './matrix-plugin.js'
import type { UmlPoolOptions } from './pool-options.js'
import { umlPool } from './uml-pool.js'

/**
 * The uml pool as a Vitest plugin: `plugins: [uml({ kernel: '7.2', image: 'debian-trixie' })]`,
 * then `vitest --pool=uml` or `test.pool: 'uml'`. It starts fetching, building and booting guests
 * while Vite starts, for every project whose pool is `uml`. With a `matrix`, the tests run once
 * per kernel × image instead, each pair a project of its own, named `<image>@<kernel>`.
 */
export function uml(options: UmlPoolOptions = {}): Plugin {
  if (options.matrix) return matrixPlugin(options)
  const runner = umlPool(options)
  return {
    name: 'vitest-pool-uml',
    configureVitest({ project }) {
      if (project.config.pool !== 'uml') return
      project.config.poolRunner = runner
      void runner.prepare(project)
    },
  }
}
