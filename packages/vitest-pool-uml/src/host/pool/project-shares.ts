import { realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Host directories a test worker needs inside the guest, at the same paths: the project root and
 * the `node_modules` trees that Vitest, this pool and the project's dependencies are loaded from
 * (with pnpm those are often outside the project). Nested paths are folded into their parents.
 */
export function projectShares(root: string, extra: string[] = []): string[] {
  const require = createRequire(`${root}/`)
  const packages = [
    realpathSync(dirname(require.resolve('vitest/package.json'))),
    // This package's dist/ (src/ when run from the sources); its parent is the package.
    realpathSync(fileURLToPath(new URL('../..', import.meta.url))),
  ]
  const dirs = [realpathSync(root), ...packages.map(outermostNodeModules), ...extra]
  return foldNested(dirs)
}

/** The topmost `node_modules` directory above a path (a pnpm store entry lives inside it), or the path itself. */
function outermostNodeModules(path: string): string {
  const parts = path.split(sep)
  const index = parts.indexOf('node_modules')
  return index === -1 ? dirname(path) : parts.slice(0, index + 1).join(sep)
}

function foldNested(dirs: string[]): string[] {
  const sorted = [...new Set(dirs)].sort((a, b) => a.length - b.length)
  const kept: string[] = []
  for (const dir of sorted) {
    if (!kept.some((parent) => dir === parent || dir.startsWith(parent + sep))) kept.push(dir)
  }
  return kept
}
