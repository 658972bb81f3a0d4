import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url))

/** The modules a source file loads when imported: its value imports and re-exports, not its type-only ones. */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8')
  return [...source.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gm)].map(
    ([, specifier]) => specifier as string,
  )
}

/** Every module the package's main entry loads before any hook runs: relative ones as paths under src. */
function loadedByEntry(): { own: string[]; packages: string[] } {
  const own = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (own.has(file)) return
    own.add(file)
    for (const specifier of staticImports(join(SRC, file))) {
      if (specifier.startsWith('.')) visit(join(dirname(file), specifier).replace(/\.js$/, '.ts'))
      else packages.add(specifier)
    }
  }
  visit('index.ts')
  return { own: [...own], packages: [...packages] }
}

it("loads none of the pool's parts with the plugin: a config that has it and runs another pool pays nothing", () => {
  const { own, packages } = loadedByEntry()
  expect(packages.filter((name) => !name.startsWith('node:'))).toEqual([])
  expect(own).toContain('host/pool/uml-plugin.ts')
  expect(own).toContain('host/pool/deferred-pool-worker.ts')
  expect(own).not.toContain('host/pool/pool-parts.ts')
  expect(own.length).toBeLessThan(10)
})

it('follows multi-line imports and re-exports, and skips type-only and dynamic imports', () => {
  // The walk itself, on files whose imports are known.
  const context = staticImports(join(SRC, 'host/pool/uml-pool-context.ts'))
  expect(context).toContain('../core/index.js')
  expect(context).toContain('./guest-pool.js')
  expect(context).not.toContain('./pool-options.js')
  expect(staticImports(join(SRC, 'index.ts'))).toContain('./host/pool/uml-plugin.js')
  expect(staticImports(join(SRC, 'host/pool/uml-pool.ts'))).not.toContain('./uml-pool-worker.js')
})
