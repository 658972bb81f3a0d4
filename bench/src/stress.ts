import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { execa } from 'execa'
import { listMarkedGuests } from 'vitest-pool-uml/api'

/**
 * `pnpm stress`: a generated suite of many test files, 5% of which panic their guest or hang past
 * fileTimeout on purpose, through `vitest --pool=uml`. Every file must get a result (passed, or
 * failed with its cause), the counts must add up, and no guest may be left running.
 */
const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { files: { type: 'string', default: '500' }, json: { type: 'boolean', default: false } },
})
const total = Number(values.files)
const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url))
const VITEST_BIN = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')
const MARKER = `VITEST_UML_STRESS_RUN=${randomBytes(6).toString('hex')}`

type Kind = 'pass' | 'panic' | 'hang'
const kindOf = (index: number): Kind => (index % 20 === 19 ? (index % 40 === 39 ? 'hang' : 'panic') : 'pass')
const BODIES: Record<Kind, string> = {
  pass: `it('passes', () => expect(6 * 7).toBe(42))`,
  panic: `it('panics its guest', () => { execSync('echo c > /proc/sysrq-trigger') })`,
  hang: `it('hangs', () => { for (;;) {} })`,
}
const EXPECTED_CODE: Record<Exclude<Kind, 'pass'>, string> = { panic: 'UML_GUEST_PANIC', hang: 'UML_GUEST_HUNG' }

const root = join(BENCH_DIR, `.stress-${randomBytes(4).toString('hex')}`)
await mkdir(join(root, 'test'), { recursive: true })
try {
  await writeFile(
    join(root, 'vitest.config.ts'),
    `import { uml } from 'vitest-pool-uml'\nimport { defineConfig } from 'vitest/config'\nexport default defineConfig({ plugins: [uml({ fileTimeout: 8000 })], test: { maxWorkers: 2 } })\n`,
  )
  const kinds = new Map<string, Kind>()
  for (let index = 0; index < total; index++) {
    const name = `test/file-${String(index).padStart(4, '0')}.test.ts`
    kinds.set(name, kindOf(index))
    await writeFile(
      join(root, name),
      `import { execSync } from 'node:child_process'\nimport { expect, it } from 'vitest'\n${BODIES[kindOf(index)]}\n`,
    )
  }
  const started = performance.now()
  const run = await execa(
    process.execPath,
    [VITEST_BIN, 'run', '--pool=uml', '--reporter=json', '--outputFile=report.json'],
    {
      cwd: root,
      reject: false,
      all: true,
      env: { CI: '', [MARKER.split('=')[0]!]: MARKER.split('=')[1] },
    },
  )
  const seconds = (performance.now() - started) / 1000
  const report = JSON.parse(await readFile(join(root, 'report.json'), 'utf8')) as {
    testResults: { name: string; status: string; message: string }[]
  }
  const problems: string[] = []
  const byFile = new Map(report.testResults.map((result) => [result.name.slice(root.length + 1), result]))
  let passed = 0
  let failed = 0
  for (const [name, kind] of kinds) {
    const result = byFile.get(name)
    if (!result) {
      problems.push(`${name}: no result`)
      continue
    }
    if (result.status === 'passed') passed++
    else failed++
    if (kind === 'pass' && result.status !== 'passed')
      problems.push(`${name}: expected to pass, ${result.status}: ${result.message.slice(0, 200)}`)
    if (kind !== 'pass' && (result.status !== 'failed' || !result.message.includes(EXPECTED_CODE[kind]))) {
      problems.push(`${name}: expected ${EXPECTED_CODE[kind]}, got ${result.status}: ${result.message.slice(0, 200)}`)
    }
  }
  if (passed + failed !== total) problems.push(`${passed} passed + ${failed} failed != ${total} files`)
  const left = listMarkedGuests(MARKER).length
  if (left > 0) problems.push(`${left} guest(s) still running after Vitest exited`)
  const summary = {
    files: total,
    passed,
    failed,
    seconds: Math.round(seconds),
    guestsLeft: left,
    vitestExitCode: run.exitCode,
    problems,
  }
  process.stdout.write(
    `stress: ${total} files (${failed} meant to fail), ${passed} passed, ${failed} failed, ${summary.seconds} s, ${left} guests left\n`,
  )
  for (const problem of problems) process.stdout.write(`  problem: ${problem}\n`)
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
  process.exitCode = problems.length === 0 ? 0 : 1
} finally {
  await rm(root, { recursive: true, force: true })
}
