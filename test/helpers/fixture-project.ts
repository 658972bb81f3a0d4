import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const FIXTURES_DIR = fileURLToPath(new URL('../.fixtures/', import.meta.url))

export interface FixtureProject {
  root: string
  remove(): Promise<void>
}

/**
 * Writes a small Vitest project under test/.fixtures (inside the workspace, so `vitest` and
 * `vitest-pool-uml` resolve as in a real project) from a map of relative paths to contents.
 */
export async function createFixtureProject(name: string, files: Record<string, string>): Promise<FixtureProject> {
  const root = join(FIXTURES_DIR, `${name}-${randomBytes(4).toString('hex')}`)
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), content)
  }
  return { root, remove: () => rm(root, { recursive: true, force: true }) }
}

/** A vitest.config.ts that runs the project in uml guests with the given pool options. */
export function umlConfig(poolOptions: Record<string, unknown> = {}, test: Record<string, unknown> = {}): string {
  return `import { uml } from 'vitest-pool-uml'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [uml(${JSON.stringify(poolOptions)})],
  test: ${JSON.stringify(test)},
})
`
}
