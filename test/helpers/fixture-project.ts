import { randomBytes } from 'node:crypto'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The e2e package (test/), whose node_modules have the Vitest of this repository (4.1). */
const TEST_PACKAGE = fileURLToPath(new URL('..', import.meta.url))

/** A workspace package whose node_modules have Vitest 4.0 and vitest-pool-uml installed against it. */
export const VITEST_4_0_PACKAGE = join(TEST_PACKAGE, 'vitest-4.0')

export interface FixtureProject {
  root: string
  remove(): Promise<void>
}

/**
 * Writes a small Vitest project under `.fixtures` of a workspace package (test/, or
 * `VITEST_4_0_PACKAGE`), so `vitest` and `vitest-pool-uml` resolve from that package's
 * dependencies as in a real project, from a map of relative paths to contents.
 */
export async function createFixtureProject(
  name: string,
  files: Record<string, string>,
  options: { packageDir?: string } = {},
): Promise<FixtureProject> {
  const root = join(options.packageDir ?? TEST_PACKAGE, '.fixtures', `${name}-${randomBytes(4).toString('hex')}`)
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
