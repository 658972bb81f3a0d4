import type { Guest } from '@vitest-uml/guest'
import type { TestProject } from 'vitest/node'

/** Where Node processes started in the guest write their V8 coverage (NODE_V8_COVERAGE). */
export const CHILD_COVERAGE_DIR = '/tmp/.vitest-uml-coverage'

/**
 * Coverage results are grouped by Vite environment; none is named this, so the v8 provider reads
 * these files as they are on disk instead of through a Vite transform: they ran natively.
 */
const NATIVE_ENVIRONMENT = '__vitest_uml_native__'

/** Reads, filters to the project's own files, and clears what child processes wrote. */
const COLLECT_SCRIPT = `
const fs = require('node:fs'), path = require('node:path')
const [dir, root] = process.argv.slice(1)
const result = []
for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  try {
    for (const script of JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')).result) {
      if (script.url.startsWith('file://' + root + '/') && !script.url.includes('/node_modules/')) result.push(script)
    }
  } catch {}
}
fs.rmSync(dir, { recursive: true, force: true })
process.stdout.write(JSON.stringify(result))
`

export function collectsChildCoverage(project: TestProject): boolean {
  const { coverage } = project.vitest.config
  return coverage.enabled && coverage.provider === 'v8'
}

/**
 * The V8 coverage of Node processes that a test file started in the guest (an installer CLI, say),
 * as the birpc request the worker would send, so Vitest merges it into the same report.
 */
export async function childCoverageMessage(
  guest: Guest,
  project: TestProject,
  testFiles: string[],
): Promise<unknown | undefined> {
  const { stdout, exitCode } = await guest.exec(['node', '-e', COLLECT_SCRIPT, CHILD_COVERAGE_DIR, project.config.root])
  const result = exitCode === 0 ? (JSON.parse(stdout || '[]') as unknown[]) : []
  if (result.length === 0) return undefined
  return {
    t: 'q',
    m: 'onAfterSuiteRun',
    a: [{ coverage: { result }, environment: NATIVE_ENVIRONMENT, projectName: project.name, testFiles }],
  }
}
