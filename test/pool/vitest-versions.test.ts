import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, realpathSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createFixtureProject, type FixtureProject, umlConfig, VITEST_4_0_PACKAGE } from '../helpers/fixture-project.js'
import { fileResults, runVitest, type VitestRun } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

/**
 * vitest-pool-uml with Vitest 4.0 (the repository's own tests run 4.1). test/vitest-4.0 installs
 * Vitest 4.0.18 and the pool as a user's install has it: a copy (pnpm's injected dependency) whose
 * peer `vitest` is that 4.0, so everything the pool loads from Vitest, on the host and in the
 * guest, is 4.0's.
 */

const POOL_DIST = fileURLToPath(new URL('../../packages/vitest-pool-uml/dist/', import.meta.url))
const VITEST_VERSION = '4.0.18'

/** Each built file of the pool, by its path in dist/. */
function distFiles(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? distFiles(dir, join(prefix, entry.name)) : [join(prefix, entry.name)],
  )
}

/** The pool test/vitest-4.0 has installed: its own copy, as built now, loading Vitest 4.0. */
function checkInstalledPool(): void {
  const installed = realpathSync(join(VITEST_4_0_PACKAGE, 'node_modules', 'vitest-pool-uml'))
  const stale = 'test/vitest-4.0 has an out-of-date copy of vitest-pool-uml: `pnpm build` refreshes it.'
  expect(distFiles(join(installed, 'dist')), stale).toEqual(distFiles(POOL_DIST))
  for (const file of distFiles(POOL_DIST)) {
    expect(
      readFileSync(join(installed, 'dist', file), 'utf8') === readFileSync(join(POOL_DIST, file), 'utf8'),
      stale,
    ).toBe(true)
  }
  const vitest = createRequire(join(installed, 'package.json'))('vitest/package.json') as { version: string }
  expect(vitest.version).toBe(VITEST_VERSION)
}

/** In a guest, each test file notes itself in the guest's /tmp: how many a guest ran shows whether files share one. */
const SETUP = `import { appendFileSync, readFileSync } from 'node:fs'

if (process.env.VITEST_UML_KERNEL) {
  appendFileSync('/tmp/test-files', 'x')
  console.log('test files in this guest:', readFileSync('/tmp/test-files', 'utf8').length)
}
`

function files(canary: string): Record<string, string> {
  return {
    'vitest.config.ts': umlConfig({}, { setupFiles: ['./setup.ts'] }),
    // One cell, to run the matrix plugin and its JUnit reporter on Vitest 4.0 too.
    'vitest.matrix.config.ts': umlConfig(
      { matrix: { kernel: ['7.2'], image: ['debian-trixie'] } },
      { setupFiles: ['./setup.ts'] },
    ),
    'setup.ts': SETUP,
    'src/grade.ts': `export function grade(score: number): string {
  if (score >= 90) return 'A'
  if (score >= 75) {
    return 'B'
  }
  if (score >= 50) return 'C'
  return 'F'
}
`,
    'test/report.test.ts': `import { expect, it } from 'vitest'
import { grade } from '../src/grade'

it('fails with a source location', () => {
  const answer: number = 41
  expect(answer).toBe(42)
})

it('logs from the guest', () => {
  console.log('hello from', process.env.VITEST_UML_IMAGE)
  console.error('an error line from the guest')
  expect(grade(95)).toBe('A')
})
`,
    // TypeScript syntax throughout: the wall parses the file to check the inline snapshot rewrite.
    'test/snapshots.test.ts': `import { expect, it } from 'vitest'
import { grade } from '../src/grade'

interface Report {
  grades: string[]
}

it('snapshots to a .snap file, inline and to a file of its own', async () => {
  const report: Report = { grades: [95, 60, 10].map((score) => grade(score)) }
  expect(report).toMatchSnapshot()
  expect(report.grades.join(' ') as string).toMatchInlineSnapshot()
  await expect(JSON.stringify(report)).toMatchFileSnapshot('./__snapshots__/report.json')
})
`,
    'test/refused.test.ts': `import { it } from 'vitest'

it('imports a host file outside server.fs.allow', async () => {
  const secret = await import(/* @vite-ignore */ '/@fs${canary}?raw')
  console.log('read:', secret.default)
})
`,
  }
}

const SNAPSHOT_FILES = [
  'test/__snapshots__/snapshots.test.ts.snap',
  'test/__snapshots__/report.json',
  'test/snapshots.test.ts',
]

async function snapshotContents(fixture: FixtureProject): Promise<string[]> {
  return Promise.all(SNAPSHOT_FILES.map((file) => readFile(join(fixture.root, file), 'utf8')))
}

/** V8 coverage of src/, as a JSON summary in `dir` (the runs have failing tests on purpose). */
function coverageArgs(dir: string): string[] {
  return [
    '--coverage.enabled',
    '--coverage.reportOnFailure',
    '--coverage.provider=v8',
    '--coverage.reporter=json-summary',
    '--coverage.include=src/**',
    `--coverage.reportsDirectory=${dir}`,
  ]
}

/** What every run of the fixture in guests shows, isolated or not. */
function expectGuestResults(run: VitestRun, fixture: FixtureProject, secret: string): void {
  expect(run.output).toMatch(new RegExp(`RUN\\s+v${VITEST_VERSION.replaceAll('.', '\\.')} `))
  const results = fileResults(run, fixture.root)
  expect(Object.fromEntries(Object.entries(results).map(([path, file]) => [path, file.status]))).toEqual({
    'test/refused.test.ts': 'failed',
    'test/report.test.ts': 'failed',
    'test/snapshots.test.ts': 'passed',
  })
  expect(run.report).toMatchObject({ numTotalTests: 4, numPassedTests: 2, numFailedTests: 2 })
  expect(run.output).toContain('AssertionError: expected 41 to be 42')
  expect(run.output).toContain('test/report.test.ts:6:18')
  expect(run.output).toContain('expect(answer).toBe(42)')
  expect(run.output).toMatch(/stdout \| test\/report\.test\.ts > logs from the guest\s+hello from debian-trixie/)
  expect(run.output).toMatch(/stderr \| test\/report\.test\.ts > logs from the guest\s+an error line from the guest/)
  const refusal = results['test/refused.test.ts']?.assertionResults[0]?.failureMessages[0]
  expect(refusal).toContain('vitest-uml: the guest may not load /@fs/')
  expect(refusal).toContain('server.fs.allow')
  expect(run.output).not.toContain(secret)
}

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

describe(`vitest --pool=uml with Vitest ${VITEST_VERSION}`, () => {
  let fixture: FixtureProject
  let canaryDir: string
  const secret = `canary-${randomBytes(8).toString('hex')}`
  beforeAll(async () => {
    checkInstalledPool()
    // Outside the workspace, which is what server.fs.allow covers by default.
    canaryDir = await mkdtemp(join(tmpdir(), 'vitest-uml-canary-'))
    await writeFile(join(canaryDir, 'secret.txt'), secret)
    fixture = await createFixtureProject('vitest-4.0', files(join(canaryDir, 'secret.txt')), {
      packageDir: VITEST_4_0_PACKAGE,
    })
  })
  afterAll(async () => {
    await fixture?.remove()
    await rm(canaryDir, { recursive: true, force: true })
  })

  it('runs files in guests: results, source locations, console output, snapshots written, coverage, the wall', async () => {
    const coverageDir = join(fixture.root, 'coverage-uml')
    const run = await runVitest(fixture.root, ['run', '--pool=uml', ...coverageArgs(coverageDir)])
    expect(run.exitCode, run.output).toBe(1)
    expectGuestResults(run, fixture, secret)
    expect(run.output.match(/test files in this guest: \d+/g)).toEqual(Array(3).fill('test files in this guest: 1'))
    // Written by the host through the wall's snapshot service.
    expect(run.report?.snapshot).toMatchObject({ added: 3, matched: 0, unmatched: 0 })
    const [snap, fileSnapshot, testFile] = await snapshotContents(fixture)
    expect(snap).toContain('exports[`snapshots to a .snap file, inline and to a file of its own 1`]')
    expect(fileSnapshot).toBe('{"grades":["A","C","F"]}')
    expect(testFile).toContain('toMatchInlineSnapshot(`"A C F"`)')
    // Every grade but B: not everything is covered, so the comparison with forks below is a real one.
    const summary = JSON.parse(await readFile(join(coverageDir, 'coverage-summary.json'), 'utf8'))
    const { lines } = summary[join(fixture.root, 'src/grade.ts')]
    expect(lines.covered).toBeGreaterThan(0)
    expect(lines.covered).toBeLessThan(lines.total)
  })

  it('runs them with --no-isolate, one guest for all, matching the snapshots; in a matrix cell with JUnit output', async () => {
    const before = await snapshotContents(fixture)
    const junit = join(fixture.root, 'junit.xml')
    const run = await runVitest(fixture.root, [
      'run',
      '--config=vitest.matrix.config.ts',
      '--no-isolate',
      '--reporter=default',
      '--reporter=junit',
      `--outputFile.junit=${junit}`,
    ])
    expect(run.exitCode, run.output).toBe(1)
    expectGuestResults(run, fixture, secret)
    expect(run.output.match(/test files in this guest: \d+/g)?.sort()).toEqual([
      'test files in this guest: 1',
      'test files in this guest: 2',
      'test files in this guest: 3',
    ])
    expect(run.report?.snapshot).toMatchObject({ added: 0, matched: 3, unmatched: 0 })
    expect(await snapshotContents(fixture)).toEqual(before)
    expect(await readFile(junit, 'utf8')).toContain('<testsuite name="debian-trixie@7.2 test/report.test.ts"')
  })

  it('gives the same results on the host with --pool=forks, where the import of the host file gets through', async () => {
    const coverageDir = join(fixture.root, 'coverage-forks')
    const run = await runVitest(fixture.root, ['run', '--pool=forks', ...coverageArgs(coverageDir)])
    expect(run.exitCode, run.output).toBe(1)
    expect(run.report).toMatchObject({ numTotalTests: 4, numPassedTests: 3, numFailedTests: 1 })
    expect(run.report?.snapshot).toMatchObject({ added: 0, matched: 3, unmatched: 0 })
    expect(run.output).toContain(`read: ${secret}`)
    const onHost = JSON.parse(await readFile(join(coverageDir, 'coverage-summary.json'), 'utf8'))
    const inGuest = JSON.parse(await readFile(join(fixture.root, 'coverage-uml', 'coverage-summary.json'), 'utf8'))
    expect(inGuest.total).toEqual(onHost.total)
  })
})
