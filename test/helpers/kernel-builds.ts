import { existsSync, writeFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { builtinRecipeNames } from 'vitest-pool-uml/api'
import { CLI_PATH } from './run-cli.js'
import { RUN_MARKER } from './uml-processes.js'
import { waitFor } from './wait-for.js'

/**
 * The built-in kernel recipes (custom-7.2: about 15 minutes of CPU) compile in the background at
 * the lowest CPU priority, beside the image builds and then the files that need no built kernel,
 * so that only the files that boot one wait for them. Such a file calls awaitBuiltKernels() in a
 * beforeAll, which also makes it run after the others (see built-kernels-last.ts).
 */
const STATE_VARIABLE = 'VITEST_UML_E2E_KERNEL_BUILDS'

/** The lowest CPU priority. */
const NICENESS = 19

/** How long a file waits for the background builds: the whole compile on a busy machine. */
export const KERNEL_BUILDS_TIMEOUT_MS = 2_400_000

interface BuildsOutcome {
  ok: boolean
  output: string
}

/**
 * Starts the builds (`vitest-uml kernels build`, one recipe after another, under `nice -n 19`) for
 * the global setup. Returns what stops them: the teardown, which also prints how the builds went.
 */
export async function startKernelBuilds(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-kernel-builds-'))
  process.env[STATE_VARIABLE] = dir
  // Not marked as this run's: a build boots its kernel once to probe it, which the leak checks
  // of the files running meanwhile must not count.
  const env = { ...process.env, [RUN_MARKER]: undefined }
  // Its own process group, so the teardown stops make and the compilers with it. A session of its
  // own is also a scheduling group of its own (autogroup), inside which alone nice ranks: the group
  // is niced too.
  const build = (name: string) => {
    const child = execa('nice', ['-n', String(NICENESS), process.execPath, CLI_PATH, 'kernels', 'build', name], {
      env,
      extendEnv: false,
      all: true,
      reject: false,
      detached: true,
    })
    try {
      writeFileSync(`/proc/${child.pid}/autogroup`, String(NICENESS))
    } catch {
      // A kernel without autogroups (or the build ended already): nice alone ranks it.
    }
    return child
  }
  let current: ReturnType<typeof build> | undefined
  let stopped = false
  const outputs: string[] = []
  const finish = (outcome: BuildsOutcome) => writeFile(join(dir, 'outcome.json'), JSON.stringify(outcome))
  const builds = (async () => {
    for (const name of builtinRecipeNames()) {
      if (stopped) return
      current = build(name)
      const result = await current
      outputs.push(result.all)
      if (result.exitCode !== 0) return finish({ ok: false, output: outputs.join('\n') })
    }
    return finish({ ok: true, output: outputs.join('\n') })
  })()
  return async () => {
    stopped = true
    if (current?.pid !== undefined && current.exitCode === null) {
      try {
        process.kill(-current.pid, 'SIGTERM')
      } catch {
        // It ended meanwhile.
      }
    }
    await builds
    // The compile's own summary (files compiled, wall time) for the CI log, or what the CLI said last.
    const lines = outputs.join('\n').split('\n').filter(Boolean)
    const summary = lines.findLast((line) => line.startsWith('Building kernel')) ?? lines.at(-1) ?? 'not started'
    process.stderr.write(`Built-in kernels, built in the background: ${summary}\n`)
    await rm(dir, { recursive: true, force: true })
  }
}

/** Waits for the global setup's kernel builds; fails with their output if they failed. */
export async function awaitBuiltKernels(): Promise<void> {
  const dir = process.env[STATE_VARIABLE]
  if (!dir) throw new Error(`${STATE_VARIABLE} is not set: the e2e global setup sets it.`)
  const file = join(dir, 'outcome.json')
  await waitFor('the background builds of the built-in kernels', () => existsSync(file), KERNEL_BUILDS_TIMEOUT_MS)
  const outcome = JSON.parse(await readFile(file, 'utf8')) as BuildsOutcome
  if (!outcome.ok) throw new Error(`The background build of the built-in kernels failed:\n${outcome.output}`)
}
