import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { fileResults, runVitest } from '../helpers/run-vitest.js'
import { useScratchDir } from '../helpers/scratch-dir.js'
import { seedCache } from '../helpers/seed-cache.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

const scratch = useScratchDir('vitest-uml-inputs-')
afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

/** Every directory entry under `dir`, recursively, as paths relative to it. */
async function listTree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort()
}

describe('inputs that must simply work', () => {
  it('runs a project whose path and test file names have spaces and non-ASCII characters', async () => {
    const fixture = await createFixtureProject('spaced ünïcødé 日本', {
      'vitest.config.ts': umlConfig(),
      'test/größe und maße.test.ts': `import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
it('sees its own file in the guest, and snapshots', () => {
  expect(existsSync(fileURLToPath(import.meta.url))).toBe(true)
  expect(process.cwd()).toContain('spaced ünïcødé 日本')
  expect({ größe: 'groß' }).toMatchSnapshot()
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode, run.output).toBe(0)
      expect(fileResults(run, fixture.root)['test/größe und maße.test.ts']?.status).toBe('passed')
      expect(run.report?.snapshot.added).toBe(1)
      const snapshot = await readFile(join(fixture.root, 'test/__snapshots__/größe und maße.test.ts.snap'), 'utf8')
      expect(snapshot).toContain('"größe": "groß"')
    } finally {
      await fixture.remove()
    }
  })

  it('lets two vitest runs share one cold cache: each entry is made once, both runs pass on it', async () => {
    // Cold but for the base image (building Debian twice would only cost minutes): the kernel is
    // fetched, the guest Node runtime prepared and the project's image derived by both at once.
    const cacheHome = await seedCache(scratch(), { images: ['debian-trixie'] })
    const config = umlConfig({
      image: 'stamped',
      images: { stamped: { from: 'debian-trixie', setup: 'od -An -N8 -tx1 /dev/urandom | tr -d " \\n" > /etc/stamp' } },
    })
    const testFile = `import { readFileSync } from 'node:fs'
import { it } from 'vitest'
it('reads the image stamp', () => {
  console.log('stamp=' + readFileSync('/etc/stamp', 'utf8'))
})
`
    const projects = await Promise.all(
      ['one', 'two'].map((name) =>
        createFixtureProject(`shared-cache-${name}`, { 'vitest.config.ts': config, 'test/stamp.test.ts': testFile }),
      ),
    )
    try {
      const runs = await Promise.all(
        projects.map((project) => runVitest(project.root, ['run', '--pool=uml'], { XDG_CACHE_HOME: cacheHome })),
      )
      for (const run of runs) expect(run.exitCode, run.output).toBe(0)
      const stamps = runs.map((run) => /stamp=([0-9a-f]{16})/.exec(run.output)?.[1])
      expect(stamps[0]).toMatch(/^[0-9a-f]{16}$/)
      expect(stamps[1]).toBe(stamps[0])
      const cacheDir = join(cacheHome, 'vitest-uml')
      expect(await readdir(join(cacheDir, 'kernels'))).toHaveLength(1)
      expect(await readdir(join(cacheDir, 'node'))).toHaveLength(1)
      expect(await readdir(join(cacheDir, 'images', 'stamped'))).toHaveLength(1)
      expect((await listTree(cacheDir)).filter((path) => /\.tmp-\d+-/.test(path))).toEqual([])
      expect(existsSync(join(cacheDir, 'images', 'debian-trixie'))).toBe(true)
    } finally {
      await Promise.all(projects.map((project) => project.remove()))
    }
  })
})
