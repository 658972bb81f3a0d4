import type { ViteUserConfig } from 'vitest/config'
import type { VitestPluginContext } from 'vitest/node'
import { UmlError } from '../core/index.js'
import { type MatrixCell, matrixCells } from './matrix-cells.js'
import { createMatrixJUnitReporter, type JUnitOptions } from './matrix-junit-reporter.js'
import { MatrixReporter } from './matrix-reporter.js'
import { cellOrderedShards } from './matrix-shards.js'
import { parsePoolOptions } from './parse-pool-options.js'
import { POOL_NAME } from './pool-identity.js'
import type { UmlPoolOptions } from './pool-options.js'
import { umlPool } from './uml-pool.js'
import { loadJUnitReporter, projectVitest } from './vitest-internals.js'

/** The matrix plugin's hooks, plain functions, so that a plugin loading it lazily can call them. */
export interface MatrixPlugin {
  config(config: ViteUserConfig): ViteUserConfig | undefined
  configureVitest(context: VitestPluginContext): Promise<void>
}

/**
 * `uml({ matrix })`: makes the root config's Vitest projects, one per cell, each inheriting the
 * root config (this plugin included) and running in guests of its cell's kernel and image.
 */
export function matrixPlugin(options: UmlPoolOptions): MatrixPlugin {
  const { matrix, ...shared } = options
  let cells: MatrixCell[] = []
  return {
    config(config) {
      // Every project re-evaluates the config file, so this runs in the root and again in each cell.
      const configFile = (config as { configFile?: string | false }).configFile || undefined
      cells = matrixCells(parsePoolOptions(options, configFile))
      if (cells.some((cell) => cell.name === config.test?.name)) return
      if (config.test?.projects) {
        throw new UmlError(
          'UML_INVALID_OPTIONS',
          `vitest-pool-uml's matrix makes the Vitest projects of ${configFile ?? 'this config'}, which has test.projects already. ` +
            'Remove test.projects there, or drop the matrix and give uml() to the projects that run in guests.',
          { details: { configFile, matrix } },
        )
      }
      return {
        test: { projects: cells.map((cell) => ({ extends: true, test: { name: cell.name, pool: POOL_NAME } })) },
      }
    },
    async configureVitest({ project, vitest }) {
      const cell = cells.find((candidate) => candidate.name === project.name)
      if (!cell) {
        throw new UmlError(
          'UML_INVALID_OPTIONS',
          `vitest-pool-uml's matrix is set in project "${project.name}", but only the root Vitest config can have one. ` +
            'Move uml({ matrix }) to the root config.',
          { details: { project: project.name, configFile: project.vite.config.configFile } },
        )
      }
      if (!vitest.config.reporters.some((reporter) => reporter instanceof MatrixReporter)) {
        vitest.config.reporters.push(new MatrixReporter(cells))
        if (vitest.config.shard) vitest.config.sequence.sequencer = cellOrderedShards(vitest.config.sequence.sequencer)
        // JUnit output keeps the cell in each suite's name.
        if (vitest.config.reporters.some(isJUnit)) {
          const JUnitReporter = await loadJUnitReporter(projectVitest(vitest.config.root).minor)
          vitest.config.reporters = vitest.config.reporters.map((reporter) =>
            isJUnit(reporter) ? createMatrixJUnitReporter(JUnitReporter, reporter[1] ?? {}) : reporter,
          )
        }
      }
      if (project.config.pool !== POOL_NAME) return
      const runner = umlPool({ ...shared, kernel: cell.kernel, image: cell.image, warmGuests: shared.warmGuests ?? 1 })
      project.config.poolRunner = runner
      // Merging blob reports runs no tests, and a shard may get no file of this cell: the cell's
      // guests then boot when its first file needs one. Otherwise kernels and images are made
      // ready before the run, since building several at once can outlast Vitest's 90 s for a
      // worker to start, and a cell that cannot have them stops Vitest with the reason.
      if (!vitest.config.mergeReports && !vitest.config.shard) await runner.prepare(project)
    },
  }
}

/** A `['junit', options]` entry of the resolved reporters. */
function isJUnit(reporter: unknown): reporter is ['junit', JUnitOptions | undefined] {
  return Array.isArray(reporter) && reporter[0] === 'junit'
}
