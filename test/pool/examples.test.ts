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

it('examples/installer installs and uninstalls cleanly in the 7.2 cells of its 2 x 2 matrix', async () => {
  // The 7.2 column, picked by a --project glob as a user would: 6.1's cells (ptrace) take twice as
  // long and add nothing here that the matrix tests do not already check for 6.1.
  const run = await runVitest(example('installer'), ['run', '--project', '*@7.2'])
  expect(run.exitCode, run.output).toBe(0)
  // The installers' two test files (one of them downloading), once per cell, two tests each.
  expect(fileCounts(run)).toEqual({ passed: 4, failed: 0 })
  expect(run.report).toMatchObject({ numTotalTests: 8, numPassedTests: 8 })
  // The matrix table, the pool's own output, says which cells those were.
  expect(run.output).toContain('Matrix: 2 of 4 cells ran')
  expect(run.output).toMatch(/^\s*6\.1\s+not run\s+not run\s*$/m)
  expect(run.output).toMatch(/^\s*7\.2\s+✓ 4 passed · \S+\s+✓ 4 passed · \S+\s*$/m)
  // Two cells, each with apt-get from Debian's mirror: about 120 s on a quiet CI machine.
}, 600_000)
