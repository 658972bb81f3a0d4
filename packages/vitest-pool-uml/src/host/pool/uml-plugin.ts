import type { Plugin } from 'vitest/config'
import { POOL_NAME } from './pool-identity.js'
import type { UmlPoolOptions } from './pool-options.js'
import { checkProjectsReached, PLUGIN_NAME, reachInlineProjects } from './reach-projects.js'
import { umlPool } from './uml-pool.js'

/**
 * The uml pool as a Vitest plugin: `plugins: [uml({ kernel: '7.2', image: 'debian-trixie' })]`,
 * then `vitest --pool=uml` or `test.pool: 'uml'`. For every project whose pool is `uml`, it
 * fetches and builds what the cache lacks before the run, and boots guests while Vite starts. It
 * reaches the projects that the root config's `test.projects` defines inline. With a `matrix`, the
 * tests run once per kernel × image instead, each pair a project of its own, named `<image>@<kernel>`.
 */
export function uml(options: UmlPoolOptions = {}): Plugin {
  if (options.matrix) return lazyMatrixPlugin(options)
  const runner = umlPool(options)
  const configureVitest: Plugin['configureVitest'] = async ({ project, vitest }) => {
    checkProjectsReached(vitest)
    if (project.config.pool !== POOL_NAME) return
    project.config.poolRunner = runner
    // Merging blob reports runs no tests. Otherwise the kernel and image are made ready before
    // the run (a cold build can outlast Vitest's 90 s for a worker to start), and a project that
    // cannot have them stops Vitest with the reason; guests then boot while Vite starts.
    if (!vitest.config.mergeReports) await runner.prepare(project)
  }
  return {
    name: PLUGIN_NAME,
    config(config) {
      reachInlineProjects(config, () => ({ name: PLUGIN_NAME, configureVitest }))
    },
    configureVitest,
  }
}

/** The matrix's plugin, loaded with the pool's parts its config hook needs (it checks the options). */
function lazyMatrixPlugin(options: UmlPoolOptions): Plugin {
  const matrix = import('./matrix-plugin.js').then(({ matrixPlugin }) => matrixPlugin(options))
  matrix.catch(() => {})
  return {
    name: PLUGIN_NAME,
    config: async (config) => (await matrix).config(config),
    configureVitest: async (context) => (await matrix).configureVitest(context),
  }
}
