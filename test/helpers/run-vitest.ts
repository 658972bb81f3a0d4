import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { execa, type ResultPromise } from 'execa'

export const VITEST_BIN = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')

export interface VitestRun {
  exitCode: number | undefined
  /** Set when a signal ended Vitest. */
  signal: string | undefined
  /** stdout and stderr, interleaved, without colors. */
  output: string
}

export interface StartedVitest {
  /** The Vitest process, to signal. */
  process: ResultPromise
  result: Promise<VitestRun>
}

/**
 * Starts the real Vitest CLI in a fixture project, as a user would. CI is cleared so snapshots are
 * written as on a developer's machine; colors are off so the output can be matched.
 */
export function startVitest(root: string, args: string[], env: Record<string, string> = {}): StartedVitest {
  const process = execa(globalThis.process.execPath, [VITEST_BIN, ...args], {
    cwd: root,
    reject: false,
    all: true,
    env: { CI: '', GITHUB_ACTIONS: '', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
  })
  const result = process.then((done) => ({ exitCode: done.exitCode, signal: done.signal, output: done.all ?? '' }))
  return { process, result }
}

export async function runVitest(root: string, args: string[], env: Record<string, string> = {}): Promise<VitestRun> {
  return startVitest(root, args, env).result
}
