import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

/** V8 coverage of src/, as a JSON summary in `dir`. */
function coverageArgs(dir: string): string[] {
  return [
    '--coverage.enabled',
    '--coverage.provider=v8',
    '--coverage.reporter=json-summary',
    '--coverage.include=src/**',
    `--coverage.reportsDirectory=${dir}`,
  ]
}

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

it('collects V8 coverage in the guest with the same numbers as --pool=forks', async () => {
  const fixture = await createFixtureProject('coverage', {
    'vitest.config.ts': umlConfig(),
    'src/grade.ts': `export function grade(score: number): string {
  if (score >= 90) return 'A'
  if (score >= 75) return 'B'
  if (score >= 50) return 'C'
  return 'F'
}

export function unused(): string {
  return 'never called'
}
`,
    'test/grade.test.ts': `import { expect, it } from 'vitest'
import { grade } from '../src/grade'

it('grades', () => {
  expect(grade(95)).toBe('A')
  expect(grade(10)).toBe('F')
})
`,
  })
  const summary = async (pool: string) => {
    const coverageDir = join(fixture.root, `coverage-${pool}`)
    const run = await runVitest(fixture.root, ['run', `--pool=${pool}`, ...coverageArgs(coverageDir)])
    expect(run.exitCode, run.output).toBe(0)
    const json = JSON.parse(await readFile(join(coverageDir, 'coverage-summary.json'), 'utf8'))
    await rm(coverageDir, { recursive: true })
    return json
  }
  try {
    const inGuest = await summary('uml')
    const onHost = await summary('forks')
    expect(inGuest.total).toEqual(onHost.total)
    // Not everything is covered, so equal numbers are a real comparison.
    expect(inGuest.total.lines.pct).toBeGreaterThan(0)
    expect(inGuest.total.lines.pct).toBeLessThan(100)
    expect(Object.keys(inGuest)).toContain(join(fixture.root, 'src/grade.ts'))
  } finally {
    await fixture.remove()
  }
})

it('includes Node processes that a test starts in the guest in the same coverage report', async () => {
  const fixture = await createFixtureProject('child-coverage', {
    'vitest.config.ts': umlConfig(),
    'src/cli.mjs': `const answer = process.argv[2]
if (answer === 'yes') {
  console.log('agreed')
} else {
  console.log('refused')
}
`,
    'test/cli.test.ts': `import { execFileSync } from 'node:child_process'
import { expect, it } from 'vitest'

it('runs the CLI as a child process', () => {
  expect(execFileSync(process.execPath, ['src/cli.mjs', 'yes'], { encoding: 'utf8' }).trim()).toBe('agreed')
})
`,
  })
  try {
    const coverageDir = join(fixture.root, 'coverage')
    const run = await runVitest(fixture.root, ['run', '--pool=uml', ...coverageArgs(coverageDir)])
    expect(run.exitCode, run.output).toBe(0)
    const summary = JSON.parse(await readFile(join(coverageDir, 'coverage-summary.json'), 'utf8'))
    const cli = summary[join(fixture.root, 'src/cli.mjs')]
    // The 'yes' branch ran in the child, the else branch did not.
    expect(cli.lines.covered).toBeGreaterThan(0)
    expect(cli.lines.pct).toBeLessThan(100)
    expect(cli.branches.covered).toBeGreaterThan(0)
  } finally {
    await fixture.remove()
  }
})
