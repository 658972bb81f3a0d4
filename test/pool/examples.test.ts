import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { fileCounts, runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}/`, import.meta.url))

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

it('examples/basic passes in guests, matching its committed snapshot', async () => {
  const run = await runVitest(example('basic'), ['run'], { CI: 'true' })
  expect(run.exitCode, run.output).toBe(0)
  expect(run.report).toMatchObject({ numTotalTests: 8, numPassedTests: 8 })
  // Every snapshot matched the committed one: none written, none failed.
  expect(run.report?.snapshot).toMatchObject({ added: 0, unmatched: 0 })
  expect(run.report?.snapshot.matched).toBeGreaterThan(0)
})

it('examples/installer installs and uninstalls cleanly in every cell of its 2 x 2 matrix', async () => {
  const run = await runVitest(example('installer'), ['run'])
  expect(run.exitCode, run.output).toBe(0)
  // The installers' two test files (one of them downloading), once per cell, two tests each.
  expect(fileCounts(run)).toEqual({ passed: 8, failed: 0 })
  expect(run.report).toMatchObject({ numTotalTests: 16, numPassedTests: 16 })
  // The matrix table, the pool's own output, says which cells those were.
  expect(run.output).toContain('Matrix: 4 of 4 cells ran')
  // Four cells, each with apt-get from Debian's mirror; 6.1's cells (ptrace) take twice 7.2's:
  // 370 s on a quiet CI machine, over 500 s on a loaded one.
}, 900_000)
