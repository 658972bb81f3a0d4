import { fileURLToPath } from 'node:url'
import { execa } from 'execa'

export const CLI_PATH = fileURLToPath(new URL('../../packages/vitest-pool-uml/bin/vitest-uml.js', import.meta.url))

/** Runs the built `vitest-uml` CLI the way a user would, without throwing on a non-zero exit. */
export function runCli(args: string[], options: { input?: string; env?: Record<string, string>; cwd?: string } = {}) {
  return execa(process.execPath, [CLI_PATH, ...args], { reject: false, all: true, ...options })
}
