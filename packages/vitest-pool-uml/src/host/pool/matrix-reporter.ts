import { appendFile } from 'node:fs/promises'
import type { Reporter, TestModule, Vitest } from 'vitest/node'
import type { MatrixCell } from './matrix-cells.js'
import { cellResults } from './matrix-results.js'
import { renderMatrixMarkdown, renderMatrixTable } from './matrix-table.js'

/**
 * Prints the matrix's table after each run (also when merging blob reports), and appends it as
 * Markdown to `$GITHUB_STEP_SUMMARY` when that is set.
 */
export class MatrixReporter implements Reporter {
  private vitest: Vitest | undefined

  constructor(private readonly cells: readonly MatrixCell[]) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest
  }

  async onTestRunEnd(testModules: readonly TestModule[]): Promise<void> {
    const results = cellResults(this.cells, testModules)
    this.vitest?.logger.log(renderMatrixTable(results))
    const stepSummary = process.env.GITHUB_STEP_SUMMARY
    if (stepSummary) await appendFile(stepSummary, renderMatrixMarkdown(results))
  }
}
