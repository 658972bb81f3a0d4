import type { TestProject } from 'vitest/node'
import type { Guest, GuestProcess } from '../guest/index.js'

/** Where Node processes started in the guest write their V8 coverage (NODE_V8_COVERAGE). */
export const CHILD_COVERAGE_DIR = '/tmp/.vitest-uml-coverage'

/** Most coverage data the host takes from one file's child processes. */
const MAX_CHILD_COVERAGE_BYTES = 64 * 1024 * 1024

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
 * The V8 coverage scripts of Node processes that a test file started in the guest (an installer
 * CLI, say), as the guest reports them: the pool keeps the project's own (see the guest's wall)
 * and hands them to Vitest as the worker would, so they merge into the same report. A worker in a
 * session (`session`) has its own /tmp, read from inside that session.
 */
export async function collectChildCoverage(
  guest: Guest,
  project: TestProject,
  session?: GuestProcess,
): Promise<unknown[]> {
  // A shell's test first: Node costs far more to start in a guest, and most files start no Node process.
  const collect = '[ -d "$1" ] || exit 0; exec node -e "$3" "$1" "$2"'
  const { stdout, exitCode } = await guest.exec(
    ['sh', '-c', collect, 'sh', CHILD_COVERAGE_DIR, project.config.root, COLLECT_SCRIPT],
    { maxOutputBytes: MAX_CHILD_COVERAGE_BYTES, ...(session && { inSessionOf: session }) },
  )
  const result: unknown = exitCode === 0 ? JSON.parse(stdout || '[]') : []
  return Array.isArray(result) ? result : []
}
