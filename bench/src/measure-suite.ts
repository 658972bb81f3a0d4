import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'

export const SUITE_DIR = fileURLToPath(new URL('../suite/', import.meta.url))
const VITEST_BIN = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')

export type Mode = 'forks' | 'uml' | 'reuse'

const MODE_ARGS: Record<Mode, string[]> = {
  forks: ['--pool=forks'],
  uml: ['--pool=uml'],
  reuse: ['--pool=uml', '--no-isolate'],
}

export interface SuiteRun {
  mode: Mode
  wallMs: number
  /** Phase durations the pool recorded (VITEST_UML_TIMINGS), by phase. */
  phases: Record<string, number[]>
}

/** Runs the bench suite once in a mode, timing the whole `vitest run` as a user would wait for it. */
export async function runSuite(mode: Mode, extraArgs: string[] = []): Promise<SuiteRun> {
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-bench-'))
  const timings = join(dir, 'timings.jsonl')
  try {
    const started = performance.now()
    const result = await execa(process.execPath, [VITEST_BIN, 'run', ...MODE_ARGS[mode], ...extraArgs], {
      cwd: SUITE_DIR,
      reject: false,
      all: true,
      env: { CI: '', NO_COLOR: '1', VITEST_UML_TIMINGS: timings },
    })
    const wallMs = performance.now() - started
    if (result.exitCode !== 0) throw new Error(`The bench suite failed in mode ${mode}:\n${result.all}`)
    return { mode, wallMs, phases: await readPhases(timings) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function readPhases(file: string): Promise<Record<string, number[]>> {
  const phases: Record<string, number[]> = {}
  const text = await readFile(file, 'utf8').catch(() => '')
  for (const line of text.split('\n').filter(Boolean)) {
    const { phase, ms } = JSON.parse(line) as { phase: string; ms: number }
    phases[phase] = [...(phases[phase] ?? []), ms]
  }
  return phases
}
