import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

/**
 * What each TypeScript folder that runs away from the host may import: code in the guest's Vitest
 * worker loads neither host code nor the host's dependencies, and shared code stays shared. (The
 * guest's own programs, in src/guest, are C and shell.)
 */
const ALLOWED: Record<string, { folders: string[]; packages: RegExp }> = {
  worker: { folders: ['worker'], packages: /^(node:|vitest\/)/ },
  shared: { folders: ['shared'], packages: /^node:/ },
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
}

function specifiers(text: string): string[] {
  const found = text.matchAll(/(?:^import\s[^'"]*?|^export\s[^'"]*?\sfrom\s*|\bimport\s*\(\s*)['"]([^'"]+)['"]/gm)
  return [...found].map((match) => match[1]!)
}

describe('src/ folders', () => {
  for (const [folder, allowed] of Object.entries(ALLOWED)) {
    it(`${folder}/ imports only ${allowed.folders.join(' and ')}/ and ${allowed.packages}`, () => {
      const strays: string[] = []
      const files = sourceFiles(join(SRC, folder))
      expect(files.length).toBeGreaterThan(0)
      for (const file of files) {
        for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
          const ok = specifier.startsWith('.')
            ? allowed.folders.includes(relative(SRC, resolve(dirname(file), specifier)).split('/')[0]!)
            : allowed.packages.test(specifier)
          if (!ok) strays.push(`${relative(SRC, file)}: ${specifier}`)
        }
      }
      expect(strays).toEqual([])
    })
  }
})
