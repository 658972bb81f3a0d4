import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ATTACK_KIT } from './attack-kit.js'
import type { Attack, EscapePaths, RunEvidence } from './attacks.js'

const FIXTURES_DIR = fileURLToPath(new URL('../.fixtures/', import.meta.url))

/** Files a legitimate run writes: snapshots of the legitimate test, reports, attachments. */
const EXPECTED_OUTPUT = [
  /\/report\//,
  /\/\.vitest-attachments\//,
  /\/test\/legit\.test\.ts$/,
  /\/test\/__snapshots__\/legit\.test\.ts\.snap$/,
  /\/test\/__snapshots__\/legit\.txt$/,
  /\/test\/__snapshots__\/f16-planted\.js$/,
]

const CONFIG = `import { uml } from 'vitest-pool-uml'
import { defineConfig } from 'vitest/config'
import { BaseSequencer } from 'vitest/node'

/** Files run by name: a victim before its attacker, an attacker before its sentinel. */
class ByName extends BaseSequencer {
  async sort(files) {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId))
  }
}

export default defineConfig({
  plugins: [uml({ warmGuests: 2 })],
  test: {
    pool: 'uml',
    include: ['test/**/*.test.ts'],
    // Attempts the host does not answer (the file service under --pool=forks) give up after 3 s.
    testTimeout: 30_000,
    sequence: { sequencer: ByName },
    coverage: { provider: 'v8', reporter: ['html'], reportsDirectory: 'report/coverage' },
  },
})
`

/** Runs in the host Vitest process: what a guest's messages did to it. */
const WALL_REPORTER = `import { mkdirSync, writeFileSync } from 'node:fs'

export default class WallReporter {
  onTestRunEnd() {
    const pollution = []
    for (const key in Object.prototype) pollution.push(key)
    mkdirSync('report', { recursive: true })
    writeFileSync('report/host.json', JSON.stringify({ pollution, maxRssMiB: process.resourceUsage().maxRSS / 1024 }))
  }
}
`

const LEGIT_TEST = `import { expect, it } from 'vitest'

it('keeps a snapshot', () => {
  expect({ kept: true }).toMatchSnapshot()
})

it('keeps an inline snapshot', () => {
  expect('inline').toMatchInlineSnapshot()
})

it('keeps a file snapshot', async () => {
  await expect('a file snapshot\\n').toMatchFileSnapshot('./__snapshots__/legit.txt')
})
`

export const BYSTANDER_TEST = "import { expect, it } from 'vitest'\n\nit('passes', () => {\n  expect(1).toBe(1)\n})\n"

export interface EscapeFixture {
  paths: EscapePaths
  /** The host environment the attacks are after (CI secrets). */
  secrets: Record<string, string>
  /** What the run left on the host, compared with the fixture as it was made. */
  evidence(output: string): Promise<RunEvidence>
  remove(): Promise<void>
}

/**
 * The project under attack: a package of a pnpm workspace (its sibling package linked into its
 * node_modules as pnpm does), with a .env and .git of its own, a symbolic link out of it, a
 * package link out of the workspace, a sibling directory whose name starts with the root's, and
 * canaries outside the workspace, one per attack, each holding its own secret.
 */
export async function createEscapeFixture(attacks: Attack[]): Promise<EscapeFixture> {
  const id = randomBytes(4).toString('hex')
  const base = join(FIXTURES_DIR, `escapes-${id}`)
  const ws = join(base, 'ws')
  const root = join(ws, 'packages', 'app')
  const canaries = await mkdtemp(join(tmpdir(), 'vitest-uml-canaries-'))
  const token = (name: string) => `CANARY_${name.replaceAll('-', '_')}_${id}`
  const paths: EscapePaths = { root, ws, canaries, token }
  const files: Record<string, string> = {
    [`${ws}/pnpm-workspace.yaml`]: 'packages:\n  - packages/*\n',
    [`${ws}/package.json`]: '{ "name": "ws", "private": true }\n',
    [`${ws}/packages/lib/package.json`]: '{ "name": "@ws/lib", "type": "module", "main": "index.js" }\n',
    [`${ws}/packages/lib/index.js`]: 'export const lib = 1\n',
    [`${ws}/packages/app-secrets/r01.js`]: `export const secret = '${token('r01-coverage-sibling')}'\n`,
    [`${root}/package.json`]: '{ "name": "app", "type": "module", "private": true }\n',
    [`${root}/vitest.config.ts`]: CONFIG,
    [`${root}/wall-reporter.ts`]: WALL_REPORTER,
    [`${root}/.env`]: `API_KEY=${token('project-env')}\n`,
    [`${root}/.git/config`]: `[remote "origin"]\n\turl = https://user:${token('project-git')}@example.org/app.git\n`,
    [`${root}/src/index.ts`]: 'export const answer = 42\n',
    [`${root}/src/remove-me.ts`]: 'export const kept = true\n',
    [`${root}/test/attack-kit.ts`]: ATTACK_KIT,
    [`${root}/test/legit.test.ts`]: LEGIT_TEST,
    [`${root}/test/z-bystander.test.ts`]: BYSTANDER_TEST,
    [`${canaries}/evil-pkg/package.json`]: '{ "name": "evil" }\n',
  }
  for (const attack of attacks) {
    for (const [path, content] of Object.entries(attack.files(paths))) files[join(root, path)] = content
    for (const [path, content] of Object.entries(attack.canaries?.(paths) ?? {})) files[join(canaries, path)] = content
  }
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, content)
  }
  await mkdir(join(root, 'node_modules', '@ws'), { recursive: true })
  await symlink('../../../lib', join(root, 'node_modules', '@ws', 'lib'))
  await symlink(join(canaries, 'evil-pkg'), join(root, 'node_modules', 'evil'))
  await symlink(join(canaries, 'f13.txt'), join(root, 'test', 'link-f13.txt'))
  const before = await hashTree([base, canaries])
  const secrets = { GITHUB_TOKEN: token('r08-environment'), NPM_TOKEN: token('r08-environment') }
  return {
    paths,
    secrets,
    async evidence(output) {
      const after = await hashTree([base, canaries])
      const changed = new Set(
        [...before.keys(), ...after.keys()].filter((path) => before.get(path) !== after.get(path)),
      )
      const written = await Promise.all(
        [...after.keys()]
          .filter((path) => changed.has(path) || path.includes('/report/') || path.includes('/.vitest-attachments/'))
          .map((path) => readFile(path, 'utf8').catch(() => '')),
      )
      // Absent when the host Vitest died before the end of the run (an attack on the channel with the wall off).
      const hostReport = await readFile(join(root, 'report', 'host.json'), 'utf8').catch(() => undefined)
      const host = JSON.parse(hostReport ?? '{}')
      const report = await readReport(root)
      return {
        text: [output, ...written].join('\n'),
        changed,
        hostRecorded: hostReport !== undefined,
        pollution: host.pollution ?? [],
        ...report,
        maxRssMiB: host.maxRssMiB,
      }
    },
    async remove() {
      await rm(base, { recursive: true, force: true })
      await rm(canaries, { recursive: true, force: true })
    },
  }
}

/** Changed files a legitimate run does not write: each one is something an attack did. */
export function unexpectedChanges(evidence: RunEvidence): string[] {
  return [...evidence.changed].filter((path) => !EXPECTED_OUTPUT.some((pattern) => pattern.test(path)))
}

/** The JSON report's status of each test and each file, by path relative to the root. */
async function readReport(root: string): Promise<Pick<RunEvidence, 'statuses' | 'files'>> {
  const text = await readFile(join(root, 'report', 'results.json'), 'utf8').catch(() => undefined)
  if (text === undefined) return { statuses: undefined, files: new Map() }
  const report = JSON.parse(text) as {
    testResults: Array<{
      name: string
      status: string
      message: string
      assertionResults: Array<{ title: string; status: string }>
    }>
  }
  const statuses = new Map<string, string>()
  const files = new Map<string, { status: string; message: string }>()
  for (const file of report.testResults) {
    const path = relative(root, file.name)
    files.set(path, { status: file.status, message: file.message })
    for (const test of file.assertionResults) statuses.set(`${path} > ${test.title}`, test.status)
  }
  return { statuses, files }
}

/** Every file under the directories (links not followed, node_modules not entered), by path, with a hash of its content. */
async function hashTree(dirs: string[]): Promise<Map<string, string>> {
  const hashes = new Map<string, string>()
  const queue = [...dirs]
  while (queue.length > 0) {
    const dir = queue.pop() as string
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name)
      if (entry.isDirectory() && entry.name !== 'node_modules') queue.push(path)
      else if (entry.isFile())
        hashes.set(
          path,
          createHash('sha1')
            .update(await readFile(path))
            .digest('hex'),
        )
    }
  }
  return hashes
}
