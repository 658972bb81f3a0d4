/**
 * `pnpm peers`: runs real third-party Vitest suites with --pool=forks and with --pool=uml and says,
 * per suite, how many tests ran, whether every test had the same outcome, and the wall-time ratio.
 * The suites' code is never part of this repository: each is taken from a git snapshot of its
 * repository (see suiteGitDir), exported to a scratch directory, installed from npm with Vitest
 * pinned to ours, and run there.
 *
 *   pnpm peers [-- --suite NAME ...] [--json]
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { execa } from 'execa'
import { getCacheDir } from 'vitest-pool-uml/api'

interface Suite {
  name: string
  /** GitHub owner/name; its snapshot is `<snapshots>/<owner>+<name>/repo`. */
  repo: string
  kind: string
  /** Vitest config file at the root, if the suite has one. */
  config?: string
}

const SUITES: Suite[] = [
  { name: 'ufo', repo: 'unjs/ufo', kind: 'library (URL utilities)' },
  { name: 'magicast', repo: 'unjs/magicast', kind: 'library with inline snapshots', config: 'vitest.config.ts' },
  {
    name: 'c12',
    repo: 'unjs/c12',
    kind: 'config loader (.env, config files written in the tree)',
    config: 'vitest.config.ts',
  },
  { name: 'ofetch', repo: 'unjs/ofetch', kind: 'HTTP client against a local server', config: 'vitest.config.ts' },
  {
    name: 'unstorage',
    repo: 'unjs/unstorage',
    kind: 'storage layer (fs driver in the tree, HTTP server)',
    config: 'vite.config.mjs',
  },
  {
    name: 'concurrently',
    repo: 'open-cli-tools/concurrently',
    kind: 'CLI that spawns processes, test.projects',
    config: 'vitest.config.ts',
  },
]

const VITEST_VERSION = '4.1.12'
const PNPM = ['-y', 'pnpm@10.34.8']

interface Outcome {
  tests: Map<string, string>
  seconds: number
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    // pnpm passes the `--` of `pnpm peers -- --json` on.
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: { suite: { type: 'string', multiple: true }, json: { type: 'boolean' } },
  })
  const scratch = join(getCacheDir(), 'peers')
  const poolEntry = new URL('../../packages/vitest-pool-uml/dist/index.js', import.meta.url).pathname
  const chosen = SUITES.filter((suite) => !values.suite || values.suite.includes(suite.name))
  const rows: Record<string, unknown>[] = []
  for (const suite of chosen) {
    const gitDir = await suiteGitDir(suite)
    if (!gitDir) {
      rows.push({ suite: suite.name, missing: true })
      continue
    }
    const dir = join(scratch, suite.name)
    await prepare(suite, gitDir, dir, poolEntry)
    const forks = await runSuite(suite, dir, 'forks')
    const uml = await runSuite(suite, dir, 'uml')
    const differences = [...new Set([...forks.tests.keys(), ...uml.tests.keys()])]
      .filter((name) => forks.tests.get(name) !== uml.tests.get(name))
      .map((name) => `${name}: forks ${forks.tests.get(name) ?? 'absent'}, uml ${uml.tests.get(name) ?? 'absent'}`)
    rows.push({
      suite: suite.name,
      kind: suite.kind,
      tests: forks.tests.size,
      passedForks: [...forks.tests.values()].filter((status) => status === 'passed').length,
      same: differences.length === 0,
      forksSeconds: forks.seconds,
      umlSeconds: uml.seconds,
      ratio: uml.seconds / forks.seconds,
      differences,
    })
    console.error(`${suite.name}: ${differences.length === 0 ? 'same outcomes' : `${differences.length} differences`}`)
  }
  printTable(rows)
  if (values.json) console.log(JSON.stringify(rows))
}

/**
 * The git directory of a suite's repository: from VITEST_UML_PEERS_MIRROR when that names a
 * directory of snapshots (`<owner>+<name>/repo` each, a clone or a bare repository), else a
 * shallow clone from GitHub made on first use and kept in the cache. Undefined, said why, when
 * there is none.
 */
async function suiteGitDir(suite: Suite): Promise<string | undefined> {
  const mirror = process.env.VITEST_UML_PEERS_MIRROR
  const snapshots = mirror ?? join(getCacheDir(), 'peers-repos')
  const name = suite.repo.replace('/', '+')
  const snapshot = join(snapshots, name, 'repo')
  const found = [join(snapshot, '.git'), snapshot].find((dir) => existsSync(join(dir, 'HEAD')))
  if (found) return found
  if (mirror !== undefined) {
    console.error(`${suite.name}: no snapshot of ${suite.repo} at ${snapshot}; skipped`)
    return undefined
  }
  const url = `https://github.com/${suite.repo}.git`
  // Cloned beside its place and moved in whole, so an interrupted clone is never taken for a snapshot.
  const partial = join(snapshots, `${name}.partial`)
  await rm(partial, { recursive: true, force: true })
  const clone = await execa('git', ['clone', '--quiet', '--bare', '--depth=1', url, join(partial, 'repo')], {
    reject: false,
    env: { GIT_TERMINAL_PROMPT: '0' },
  })
  if (clone.failed) {
    await rm(partial, { recursive: true, force: true })
    console.error(
      `${suite.name}: cannot clone ${url} (${clone.stderr.trim().split('\n').at(-1)}); skipped. Where GitHub is out of reach, set VITEST_UML_PEERS_MIRROR to a directory holding a git snapshot of it as ${name}/repo.`,
    )
    return undefined
  }
  await rm(join(snapshots, name), { recursive: true, force: true })
  await rename(partial, join(snapshots, name))
  return snapshot
}

/** Exports the snapshot's newest commit and installs it with Vitest pinned to the version the pool is built for. */
async function prepare(suite: Suite, gitDir: string, dir: string, poolEntry: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await execa('sh', ['-c', 'git --git-dir="$0" archive HEAD | tar -x -C "$1"', gitDir, dir])
  const manifestPath = join(dir, 'package.json')
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8'))
  manifest.pnpm = {
    ...manifest.pnpm,
    overrides: {
      ...manifest.pnpm?.overrides,
      vitest: VITEST_VERSION,
      '@vitest/coverage-v8': VITEST_VERSION,
      '@vitest/ui': VITEST_VERSION,
    },
  }
  await writeFile(manifestPath, JSON.stringify(manifest, null, 2))
  await execa('npx', [...PNPM, 'install', '--no-frozen-lockfile', '--config.manage-package-manager-versions=false'], {
    cwd: dir,
    stdio: 'inherit',
  })
  const base = suite.config ? `import base from './${suite.config}'\n` : 'const base = {}\n'
  await writeFile(
    join(dir, 'vitest.peers.config.mts'),
    `import { mergeConfig } from 'vitest/config'
import { uml } from ${JSON.stringify(poolEntry)}
${base}
export default mergeConfig(base, { plugins: [uml()] })
`,
  )
}

async function runSuite(suite: Suite, dir: string, pool: 'forks' | 'uml'): Promise<Outcome> {
  const report = join(dir, `.peers-${pool}.json`)
  const started = performance.now()
  await execa(
    'npx',
    [
      'vitest',
      'run',
      '--config',
      'vitest.peers.config.mts',
      `--pool=${pool}`,
      '--reporter=json',
      `--outputFile=${report}`,
    ],
    { cwd: dir, reject: false, env: { CI: '' }, stdout: 'ignore', stderr: 'inherit' },
  )
  const seconds = (performance.now() - started) / 1000
  const tests = new Map<string, string>()
  const json = JSON.parse(await readFile(report, 'utf8').catch(() => '{"testResults":[]}')) as {
    testResults: { name: string; status: string; assertionResults: { fullName: string; status: string }[] }[]
  }
  // Tests of one name (it.each over equal values, say) are told apart by their place among them.
  const add = (name: string, status: string) => {
    let key = name
    for (let n = 2; tests.has(key); n++) key = `${name} (#${n})`
    tests.set(key, status)
  }
  for (const file of json.testResults) {
    const relative = file.name.slice(dir.length + 1)
    if (file.assertionResults.length === 0) add(`${relative} (file)`, file.status)
    for (const test of file.assertionResults) add(`${relative} > ${test.fullName}`, test.status)
  }
  console.error(`${suite.name} --pool=${pool}: ${tests.size} tests in ${seconds.toFixed(1)} s`)
  return { tests, seconds }
}

function printTable(rows: Record<string, unknown>[]): void {
  console.log('\nsuite          tests  passed(forks)  same outcomes  forks s   uml s  ratio')
  for (const row of rows) {
    if (row.missing) {
      console.log(`${String(row.suite).padEnd(14)} (no snapshot)`)
      continue
    }
    console.log(
      `${String(row.suite).padEnd(14)} ${String(row.tests).padStart(5)}  ${String(row.passedForks).padStart(13)}  ${(row.same ? 'yes' : 'NO').padStart(13)}  ${(row.forksSeconds as number).toFixed(1).padStart(7)} ${(row.umlSeconds as number).toFixed(1).padStart(7)}  ${(row.ratio as number).toFixed(1).padStart(5)}x`,
    )
    for (const difference of row.differences as string[]) console.log(`    ${difference}`)
  }
}

await main()
