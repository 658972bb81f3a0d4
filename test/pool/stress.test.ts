import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { afterEach, expect, it } from 'vitest'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

const STRESS_SCRIPT = fileURLToPath(new URL('../../bench/dist/stress.js', import.meta.url))

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

it('gives every file of a stress run a result while 5% of them panic or hang (pnpm stress, small)', async () => {
  const run = await execa(process.execPath, [STRESS_SCRIPT, '--files', '40', '--json'], { reject: false, all: true })
  const summary = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')
  expect(summary, run.all).toMatchObject({ files: 40, passed: 38, failed: 2, guestsLeft: 0, problems: [] })
  expect(run.exitCode).toBe(0)
})
