import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { execa } from 'execa'

export const VITEST_BIN = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')

export interface VitestRun {
  exitCode: number | undefined
  /** stdout and stderr, interleaved, without colors. */
  output: string
}

/**
 * Runs the real Vitest CLI in a fixture project, as a user would. CI is cleared so snapshots are
 * written as on a developer's machine; colors are off so the output can be matched.
 */
export async function runVitest(root: string, args: string[], env: Record<string, string> = {}): Promise<VitestRun> {
  const result = await execa(process.execPath, [VITEST_BIN, ...args], {
    cwd: root,
    reject: false,
    all: true,
    env: { CI: '', GITHUB_ACTIONS: '', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
  })
  return { exitCode: result.exitCode, output: result.all ?? '' }
}
