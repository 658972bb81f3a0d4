import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createFixtureProject, type FixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { fileResults, runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

const FILES = {
  'vitest.config.ts': umlConfig({ image: 'debian-bookworm' }),
  'src/math.ts': `export function add(a: number, b: number): number {
  return a + b
}
`,
  'test/passing.test.ts': `import { describe, expect, it, vi } from 'vitest'
import { add } from '../src/math'

describe('math', () => {
  it('adds', () => {
    expect(add(1, 2)).toBe(3)
  })

  it('mocks with vi.fn', () => {
    const spy = vi.fn(add)
    spy(2, 2)
    expect(spy).toHaveBeenCalledWith(2, 2)
    expect(spy.mock.results[0]?.value).toBe(4)
  })

  it('fakes timers', () => {
    vi.useFakeTimers()
    let fired = false
    setTimeout(() => { fired = true }, 10_000)
    vi.advanceTimersByTime(10_000)
    expect(fired).toBe(true)
    vi.useRealTimers()
  })

  it.skip('is skipped', () => {
    throw new Error('never runs')
  })
})
`,
  'test/failing.test.ts': `import { expect, it } from 'vitest'

it('fails with a source location', () => {
  const answer = 41
  expect(answer).toBe(42)
})
`,
  'test/console.test.ts': `import { beforeAll, expect, it } from 'vitest'

let ready = false
beforeAll(() => {
  ready = true
})

it('logs from the guest', () => {
  console.log('hello from', process.env.VITEST_UML_IMAGE)
  console.error('an error line from the guest')
  expect(ready).toBe(true)
})
`,
}

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

describe('vitest --pool=uml reports as any pool does', () => {
  let fixture: FixtureProject
  beforeAll(async () => {
    fixture = await createFixtureProject('reporting', FILES)
  })
  afterAll(async () => {
    await fixture.remove()
  })

  it('shows counts, the failing source line and console output attributed to its test', async () => {
    const run = await runVitest(fixture.root, ['run', '--pool=uml'])
    expect(run.exitCode, run.output).toBe(1)
    expect(run.report).toMatchObject({ numTotalTests: 6, numPassedTests: 4, numFailedTests: 1, numPendingTests: 1 })
    const files = fileResults(run, fixture.root)
    expect(Object.fromEntries(Object.entries(files).map(([path, file]) => [path, file.status]))).toEqual({
      'test/console.test.ts': 'passed',
      'test/failing.test.ts': 'failed',
      'test/passing.test.ts': 'passed',
    })
    expect(files['test/failing.test.ts']?.assertionResults[0]?.failureMessages[0]).toContain(
      'AssertionError: expected 41 to be 42',
    )
    // What the default reporter shows of a failure and of console output, as with any pool.
    expect(run.output).toContain('AssertionError: expected 41 to be 42')
    expect(run.output).toContain('test/failing.test.ts:5:18')
    expect(run.output).toContain('expect(answer).toBe(42)')
    expect(run.output).toMatch(/stdout \| test\/console\.test\.ts > logs from the guest\s+hello from debian-bookworm/)
    expect(run.output).toMatch(/stderr \| test\/console\.test\.ts > logs from the guest\s+an error line from the guest/)
  })

  it('writes json and junit reports with every test', async () => {
    const run = await runVitest(fixture.root, [
      'run',
      '--pool=uml',
      '--reporter=json',
      '--outputFile.json=report.json',
      '--reporter=junit',
      '--outputFile.junit=junit.xml',
    ])
    expect(run.exitCode).toBe(1)
    const report = JSON.parse(await readFile(join(fixture.root, 'report.json'), 'utf8'))
    expect(report).toMatchObject({ numTotalTests: 6, numPassedTests: 4, numFailedTests: 1, numPendingTests: 1 })
    const junit = await readFile(join(fixture.root, 'junit.xml'), 'utf8')
    expect(junit).toContain('<testcase classname="test/failing.test.ts" name="fails with a source location"')
    expect(junit).toContain('expected 41 to be 42')
  })

  it('filters with -t, stops early with --bail, and lists tests without running them', async () => {
    const filtered = await runVitest(fixture.root, ['run', '--pool=uml', '-t', 'fakes timers'])
    expect(filtered.exitCode, filtered.output).toBe(0)
    const ran = filtered.report?.testResults.flatMap((file) =>
      file.assertionResults.filter((t) => t.status !== 'skipped'),
    )
    expect(ran?.map((test) => [test.title, test.status])).toEqual([['fakes timers', 'passed']])
    const list = await runVitest(fixture.root, ['list', '--pool=uml'])
    expect(list.exitCode).toBe(0)
    expect(list.output).toContain('test/passing.test.ts > math > fakes timers')
    expect(list.output).toContain('test/failing.test.ts > fails with a source location')
    const bail = await runVitest(fixture.root, ['run', '--pool=uml', '--bail=1', 'failing', 'passing'])
    expect(bail.exitCode).toBe(1)
    expect(bail.report?.numFailedTests).toBe(1)
    expect(bail.output).toContain('expected 41 to be 42')
  })
})
