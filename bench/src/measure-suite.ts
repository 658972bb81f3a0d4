import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import type { FileStatsRecord } from 'vitest-pool-uml/api'
import { generateLibrary } from './generate-library.js'

export const SUITE_DIR = fileURLToPath(new URL('../suite/', import.meta.url))
const VITEST_BIN = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')

/** A test suite the bench runs in every mode. */
export interface Workload {
  name: string
  dir: string
  files: number
  /** Writes what the suite needs before its first run. */
  prepare?: () => Promise<void>
}

const IMPORTS_DIR = fileURLToPath(new URL('../imports/', import.meta.url))

export const WORKLOADS = {
  /** 24 files: computation, file system work under /tmp, shell commands, snapshots, 400 small tests. */
  mixed: { name: 'mixed', dir: SUITE_DIR, files: 24 },
  /** 12 files, each importing a generated library of 300 TypeScript modules, as libraries' suites do. */
  imports: {
    name: 'import-heavy',
    dir: IMPORTS_DIR,
    files: 12,
    prepare: () => generateLibrary(join(IMPORTS_DIR, 'lib')),
  },
} satisfies Record<string, Workload>

/**
 * Each guest mode and the forks mode it is compared with: isolate with isolate, reuse with reuse.
 * `fresh-kernel`: the default mode with the pool's `freshKernel` option (a boot per file).
 */
export type Mode = 'forks' | 'uml' | 'fresh-kernel' | 'forks-reuse' | 'reuse'

const MODE_ARGS: Record<Mode, string[]> = {
  forks: ['--pool=forks'],
  uml: ['--pool=uml'],
  'fresh-kernel': ['--pool=uml'],
  'forks-reuse': ['--pool=forks', '--no-isolate'],
  reuse: ['--pool=uml', '--no-isolate'],
}

/** The suites' configs read it (bench/suite/vitest.config.ts). */
const MODE_ENV: Partial<Record<Mode, Record<string, string>>> = { 'fresh-kernel': { BENCH_FRESH_KERNEL: '1' } }

/** What one test file (or, without isolation, one batch of files) cost in a guest. */
export type FileStats = FileStatsRecord

export interface SuiteRun {
  workload: string
  mode: Mode
  wallMs: number
  /**
   * CPU time of the run on the host: with forks, Vitest and its workers (all it reaped); with
   * guests, the Vitest process (guests' CPU is in `files`).
   */
  cpuMs: number
  /** Phase durations the pool recorded (VITEST_UML_TIMINGS), by phase. */
  phases: Record<string, number[]>
  files: FileStats[]
}

/** Runs a suite once in a mode, timing the whole `vitest run` as a user would wait for it. */
export async function runSuite(
  workload: Workload,
  mode: Mode,
  extraArgs: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<SuiteRun> {
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-bench-'))
  const timings = join(dir, 'timings.jsonl')
  const times = join(dir, 'times')
  try {
    const started = performance.now()
    // bash's `times` gives the CPU time of every process the run started and waited for: Vitest and
    // its forks workers. Guests that outlive Vitest's exit are not waited for, so the pool records
    // its own process's CPU time instead.
    const script = '"$@"; status=$?; times > "$BENCH_TIMES"; exit $status'
    const command = [process.execPath, VITEST_BIN, 'run', ...MODE_ARGS[mode], ...extraArgs]
    const result = await execa('bash', ['-c', script, 'bash', ...command], {
      cwd: workload.dir,
      reject: false,
      all: true,
      env: { CI: '', NO_COLOR: '1', VITEST_UML_TIMINGS: timings, BENCH_TIMES: times, ...MODE_ENV[mode], ...extraEnv },
    })
    const wallMs = performance.now() - started
    if (result.exitCode !== 0) throw new Error(`The ${workload.name} suite failed in mode ${mode}:\n${result.all}`)
    const records = await readRecords(timings)
    return {
      workload: workload.name,
      mode,
      wallMs,
      cpuMs: records.find((record) => record.phase === 'host-cpu')?.ms ?? childrenCpuMs(await readFile(times, 'utf8')),
      phases: phasesOf(records),
      files: records.filter((record) => record.phase === 'file-stats') as unknown as FileStats[],
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

type TimingRecord = { phase: string; ms?: number } & Record<string, unknown>

async function readRecords(file: string): Promise<TimingRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TimingRecord)
}

function phasesOf(records: TimingRecord[]): Record<string, number[]> {
  const phases: Record<string, number[]> = {}
  for (const { phase, ms } of records) if (ms !== undefined) phases[phase] = [...(phases[phase] ?? []), ms]
  return phases
}

/** The children's user and system time from `times` (its second line: "0m5.120s 0m1.030s"). */
function childrenCpuMs(times: string): number {
  const line = times.trim().split('\n')[1] ?? ''
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (sum, [, minutes, seconds]) => sum + (Number(minutes) * 60 + Number(seconds)) * 1000,
    0,
  )
}
