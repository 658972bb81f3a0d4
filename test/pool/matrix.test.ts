import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createFixtureProject, type FixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { fileCounts, runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

const CELLS = [
  { image: 'debian-bookworm', kernel: '6.1', codename: 'bookworm' },
  { image: 'debian-bookworm', kernel: '7.2', codename: 'bookworm' },
  { image: 'debian-trixie', kernel: '6.1', codename: 'trixie' },
  { image: 'debian-trixie', kernel: '7.2', codename: 'trixie' },
]

const FILES = {
  'vitest.config.ts': umlConfig(
    { matrix: { kernel: ['6.1', '7.2'], image: ['debian-bookworm', 'debian-trixie'] } },
    { maxWorkers: 2 },
  ),
  'test/cell.test.ts': `import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'

it('runs on its cell’s kernel and image', () => {
  const kernel = process.env.VITEST_UML_KERNEL ?? ''
  const image = process.env.VITEST_UML_IMAGE ?? ''
  const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim()
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
  console.log(\`cell \${image}@\${kernel} sees \${release} \${codename}\`)
  expect(release.startsWith(\`\${kernel}.\`)).toBe(true)
  expect(image).toBe(\`debian-\${codename}\`)
})
`,
}

/** The line the cell's test logs: its own kernel release and Debian codename, seen from inside. */
const sawItsCell = (cell: (typeof CELLS)[number]) =>
  new RegExp(
    `cell ${cell.image}@${cell.kernel.replace('.', '\\.')} sees ${cell.kernel.replace('.', '\\.')}\\.\\S+ ${cell.codename}`,
  )

/** The terminal table's grid: a header of images, then a row per kernel. */
const GRID = /kernel\s+debian-bookworm\s+debian-trixie\n\s+6\.1\s+(.+)\n\s+7\.2\s+(.+)\n/

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

describe('uml({ matrix })', () => {
  let fixture: FixtureProject
  beforeAll(async () => {
    fixture = await createFixtureProject('matrix', FILES)
  })
  afterAll(async () => {
    await fixture.remove()
  })

  it('runs every file in each kernel × image cell and tables the results, also for a step summary and JUnit', async () => {
    const stepSummary = join(fixture.root, 'step-summary.md')
    const junit = join(fixture.root, 'junit.xml')
    const run = await runVitest(
      fixture.root,
      ['run', '--reporter=default', '--reporter=junit', `--outputFile.junit=${junit}`],
      {
        GITHUB_STEP_SUMMARY: stepSummary,
      },
    )
    expect(run.exitCode, run.output).toBe(0)
    // The one test file once per cell, each passed, and each cell's test saw its own kernel and image.
    expect(fileCounts(run)).toEqual({ passed: 4, failed: 0 })
    expect(run.report).toMatchObject({ numTotalTests: 4, numPassedTests: 4 })
    for (const cell of CELLS) expect(run.output).toMatch(sawItsCell(cell))
    expect(run.output).toContain('Matrix: 4 of 4 cells ran')
    const [, row61, row72] = GRID.exec(run.output) ?? []
    for (const row of [row61, row72]) expect(row).toMatch(/^✓ 1 passed · \S+\s+✓ 1 passed · \S+$/)
    const summary = await readFile(stepSummary, 'utf8')
    expect(summary).toContain('### Matrix: 4 of 4 cells ran')
    expect(summary).toContain('| kernel | debian-bookworm | debian-trixie |')
    expect(summary).toMatch(/\| 6\.1 \| ✅ 1 passed · \S+ \| ✅ 1 passed · \S+ \|/)
    expect(summary).toMatch(/\| 7\.2 \| ✅ 1 passed · \S+ \| ✅ 1 passed · \S+ \|/)
    const xml = await readFile(junit, 'utf8')
    for (const cell of CELLS) {
      expect(xml).toContain(`<testsuite name="${cell.image}@${cell.kernel} test/cell.test.ts"`)
      expect(xml).toContain(`classname="${cell.image}@${cell.kernel} test/cell.test.ts"`)
    }
  })

  it('runs only the cells --project selects, by name or glob', async () => {
    const one = await runVitest(fixture.root, ['run', '--project', 'debian-trixie@7.2'])
    expect(one.exitCode, one.output).toBe(0)
    expect(one.report).toMatchObject({ numTotalTests: 1, numPassedTests: 1 })
    expect(one.output).toMatch(sawItsCell(CELLS[3]!))
    expect(one.output).toContain('Matrix: 1 of 4 cells ran')
    expect(one.output.match(/cell debian-\w+@[\d.]+ sees/g)).toHaveLength(1)

    const glob = await runVitest(fixture.root, ['run', '--project', 'debian-*@7.2'])
    expect(glob.exitCode, glob.output).toBe(0)
    expect(glob.report).toMatchObject({ numTotalTests: 2, numPassedTests: 2 })
    expect(glob.output).toMatch(sawItsCell(CELLS[1]!))
    expect(glob.output).toMatch(sawItsCell(CELLS[3]!))
    expect(glob.output).not.toContain('@6.1 sees')
    const [, row61, row72] = GRID.exec(glob.output) ?? []
    expect(row61).toMatch(/^not run\s+not run$/)
    expect(row72).toMatch(/^✓ 1 passed · \S+\s+✓ 1 passed · \S+$/)
  })

  it('splits the cells across --shard runs, and a merge of their blobs tables all four', async () => {
    const shards = await Promise.all(
      [1, 2].map((index) =>
        runVitest(fixture.root, [
          'run',
          `--shard=${index}/2`,
          '--reporter=blob',
          `--outputFile=.vitest-reports/blob-${index}.json`,
        ]),
      ),
    )
    for (const [index, shard] of shards.entries()) {
      expect(shard.exitCode).toBe(0)
      expect(shard.output).toContain('Matrix: 2 of 4 cells ran')
      expect(existsSync(join(fixture.root, `.vitest-reports/blob-${index + 1}.json`))).toBe(true)
    }
    const merged = await runVitest(fixture.root, ['--merge-reports'])
    expect(merged.exitCode, merged.output).toBe(0)
    expect(fileCounts(merged)).toEqual({ passed: 4, failed: 0 })
    expect(merged.report).toMatchObject({ numTotalTests: 4, numPassedTests: 4 })
    for (const cell of CELLS) expect(merged.output).toMatch(sawItsCell(cell))
    expect(merged.output).toContain('Matrix: 4 of 4 cells ran')
    const [, row61, row72] = GRID.exec(merged.output) ?? []
    for (const row of [row61, row72]) expect(row).toMatch(/^✓ 1 passed · \S+\s+✓ 1 passed · \S+$/)
  })
})
