import type { TestModule } from 'vitest/node'
import type { MatrixCell } from './matrix-cells.js'

/** How one cell's test files fared. */
export interface CellResult {
  cell: MatrixCell
  /** Test files of the cell in this run: none if `--project` or `--shard` left the cell out. */
  files: number
  passed: number
  /** Failed tests, plus one for each file that failed outside its tests (an import error, a lost guest). */
  failed: number
  skipped: number
  /**
   * Milliseconds from the start of the cell's first file (its import included) to the end of its
   * last test; unknown if no test ran.
   */
  wallTime: number | undefined
}

/** Sorts a run's test modules into the matrix's cells by project name. */
export function cellResults(cells: readonly MatrixCell[], testModules: readonly TestModule[]): CellResult[] {
  return cells.map((cell) => {
    const modules = testModules.filter((module) => module.project.name === cell.name)
    const result: CellResult = { cell, files: modules.length, passed: 0, failed: 0, skipped: 0, wallTime: undefined }
    let first = Number.POSITIVE_INFINITY
    let last = Number.NEGATIVE_INFINITY
    for (const module of modules) {
      let failedTests = 0
      let firstTest = Number.POSITIVE_INFINITY
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') result.passed++
        else if (state === 'failed') failedTests++
        else if (state === 'skipped') result.skipped++
        const diagnostic = test.diagnostic()
        if (!diagnostic) continue
        firstTest = Math.min(firstTest, diagnostic.startTime)
        last = Math.max(last, diagnostic.startTime + diagnostic.duration)
      }
      result.failed += failedTests || (module.state() === 'failed' ? 1 : 0)
      const { collectDuration, setupDuration, prepareDuration, environmentSetupDuration } = module.diagnostic()
      first = Math.min(first, firstTest - collectDuration - setupDuration - prepareDuration - environmentSetupDuration)
    }
    if (last >= first) result.wallTime = Math.round(last - first)
    return result
  })
}
