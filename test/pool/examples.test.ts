import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { runVitest } from '../helpers/run-vitest.js'
import { listUmlProcesses } from '../helpers/uml-processes.js'

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}/`, import.meta.url))

afterEach(async () => {
  expect(await listUmlProcesses()).toEqual([])
})

it('examples/basic passes in guests, matching its committed snapshot', async () => {
  const run = await runVitest(example('basic'), ['run'], { CI: 'true' })
  expect(run.exitCode, run.output).toBe(0)
  expect(run.output).toMatch(/Tests\s+8 passed \(8\)/)
  expect(run.output).not.toMatch(/Snapshots\s+\d+ (written|failed)/)
})

it('examples/installer installs and uninstalls cleanly in every cell of its 2 x 2 matrix', async () => {
  const run = await runVitest(example('installer'), ['run'])
  expect(run.exitCode, run.output).toBe(0)
  expect(run.output).toContain('Matrix: 4 of 4 cells ran')
  for (const cell of ['debian-bookworm@6.1', 'debian-bookworm@7.2', 'debian-trixie@6.1', 'debian-trixie@7.2']) {
    expect(run.output).toContain(`✓ |${cell}| test/installer.test.ts (2 tests)`)
  }
})
