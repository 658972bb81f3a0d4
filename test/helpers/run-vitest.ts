import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { execa, type ResultPromise } from 'execa'

/** The CLI of a project's own Vitest (the one its `vitest` resolves to), as `npx vitest` runs it there. */
export function vitestBin(root: string): string {
  return join(dirname(createRequire(join(root, 'package.json')).resolve('vitest/package.json')), 'vitest.mjs')
}

/** One test, as Vitest's JSON reporter writes it. */
export interface TestResult {
  fullName: string
  title: string
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo' | 'disabled'
  failureMessages: string[]
}

/** One test file (of one project), as Vitest's JSON reporter writes it. */
export interface FileResult {
  /** Absolute path of the test file. */
  name: string
  status: 'passed' | 'failed'
  /** The file's own first error (a guest that died under it, say), else empty. */
  message: string
  assertionResults: TestResult[]
}

/** Vitest's JSON report (`--reporter=json`): what ran and how it ended, as data. */
export interface VitestReport {
  success: boolean
  numTotalTests: number
  numPassedTests: number
  numFailedTests: number
  numPendingTests: number
  snapshot: { added: number; matched: number; unmatched: number; updated: number }
  testResults: FileResult[]
}

export interface VitestRun {
  exitCode: number | undefined
  /** Set when a signal ended Vitest. */
  signal: string | undefined
  /** stdout and stderr, interleaved, without colors: for messages, and to show when a check fails. */
  output: string
  /** The JSON report, when the run wrote one (not when the arguments name an output file). */
  report: VitestReport | undefined
}

export interface StartedVitest {
  /** The Vitest process, to signal. */
  process: ResultPromise
  result: Promise<VitestRun>
}

/**
 * Starts the project's own Vitest CLI in a fixture project, as a user would. CI is cleared so
 * snapshots are written as on a developer's machine; colors are off so messages can be found in
 * the output. Besides the reporters the arguments name (else the default one), the JSON reporter
 * writes the report, which checks read instead of the human summary.
 */
export function startVitest(root: string, args: string[], env: Record<string, string> = {}): StartedVitest {
  // A run that names its own output file (blob shards, a JSON report of its own) gets no report here.
  const ownOutput = args.some((arg) => arg.startsWith('--outputFile=') || arg.startsWith('--outputFile.json'))
  const reportFile = ownOutput ? undefined : join(tmpdir(), `vitest-uml-report-${randomBytes(6).toString('hex')}.json`)
  const reporters = [
    ...(args.some((arg) => arg.startsWith('--reporter')) ? [] : ['--reporter=default']),
    ...(reportFile ? ['--reporter=json', `--outputFile.json=${reportFile}`] : []),
  ]
  const process = execa(globalThis.process.execPath, [vitestBin(root), ...args, ...reporters], {
    cwd: root,
    reject: false,
    all: true,
    env: { CI: '', GITHUB_ACTIONS: '', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
  })
  const result = process.then(async (done) => ({
    exitCode: done.exitCode,
    signal: done.signal,
    output: done.all ?? '',
    report: reportFile ? await readReport(reportFile) : undefined,
  }))
  return { process, result }
}

export async function runVitest(root: string, args: string[], env: Record<string, string> = {}): Promise<VitestRun> {
  return startVitest(root, args, env).result
}

async function readReport(file: string): Promise<VitestReport | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as VitestReport
  } catch {
    return undefined
  } finally {
    await rm(file, { force: true })
  }
}

/**
 * Each test file's result by its path in the project (`test/a.test.ts`); a run without a report
 * (Vitest stopped before the end) has none.
 */
export function fileResults(run: VitestRun, root: string): Record<string, FileResult> {
  return Object.fromEntries((run.report?.testResults ?? []).map((file) => [relative(root, file.name), file]))
}

/** How many test files of the run ended each way. */
export function fileCounts(run: VitestRun): { passed: number; failed: number } {
  const files = run.report?.testResults ?? []
  return {
    passed: files.filter((file) => file.status === 'passed').length,
    failed: files.filter((file) => file.status === 'failed').length,
  }
}
