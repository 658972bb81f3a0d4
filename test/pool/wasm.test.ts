import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { type Guest, isUmlError, processTreePids } from 'vitest-pool-uml/api'
import { bootGuest } from '../helpers/boot-guest.js'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

/** test/node_modules, where @electric-sql/pglite is linked (the fixture resolves it from there). */
const TEST_NODE_MODULES = fileURLToPath(new URL('../node_modules/', import.meta.url)).replace(/\/$/, '')

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

it('runs a WebAssembly build of Postgres (PGlite) in a guest: it starts and answers queries', async () => {
  const fixture = await createFixtureProject('wasm', {
    // PGlite's heap takes about 500 MiB in a guest: more than 512 MiB guests had, within the default.
    'vitest.config.ts': umlConfig({ shares: [{ path: TEST_NODE_MODULES }] }, { testTimeout: 600_000 }),
    'test/pglite.test.ts': `import { PGlite } from '@electric-sql/pglite'
import { expect, it } from 'vitest'

it('starts Postgres compiled to WebAssembly and queries it', async () => {
  const db = await PGlite.create()
  await db.exec('create table t (n int); insert into t values (40), (2)')
  const { rows } = await db.query('select sum(n)::int as answer from t')
  expect(rows).toEqual([{ answer: 42 }])
  console.log('pglite answered ' + rows[0].answer)
  await db.close()
})
`,
  })
  try {
    const run = await runVitest(fixture.root, ['run'])
    expect(run.exitCode, run.output).toBe(0)
    expect(run.output).toContain('pglite answered 42')
  } finally {
    await fixture.remove()
  }
})

it('stops a guest whose process reaches the host mapping limit with UML_GUEST_MAP_LIMIT, instead of a fault loop', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-maps-'))
  // Touching two buffers page by page in turn gives each buffer every other physical page, so
  // UML cannot merge any two of their host mappings: ~30,000 mappings for 120 MiB.
  await writeFile(
    join(dir, 'scatter.cjs'),
    `const pages = 15360, a = Buffer.allocUnsafe(pages * 4096), b = Buffer.allocUnsafe(pages * 4096)
for (let i = 0; i < pages; i++) { a[i * 4096] = 1; b[i * 4096] = 1 }
console.log('touched')
setInterval(() => {}, 1000)
`,
  )
  // The real limit (Debian's 65530, or 1048576 once raised) would take a guest with far more memory
  // to reach; a lower one puts the same check to work on a real guest process.
  const guest = await bootGuest({ shares: [{ hostPath: dir }], mapLimit: 20_000 })
  try {
    const scatter = guest.exec(['node', join(dir, 'scatter.cjs')])
    const error = await Promise.race([
      scatter.then(
        () => undefined,
        (failure: unknown) => failure,
      ),
      delay(STUCK_MS, STUCK, { ref: false }),
    ])
    // Twice, on busy machines, this test ran into Vitest's timeout with nothing to show for it.
    if (error === STUCK) expect.fail(await describeStuckGuest(guest))
    expect(isUmlError(error, 'UML_GUEST_MAP_LIMIT'), String(error)).toBe(true)
    expect((error as Error).message).toContain('vm.max_map_count')
    expect(guest.alive).toBe(false)
  } finally {
    await guest.dispose()
    await rm(dir, { recursive: true, force: true })
  }
})

/** How long the scattering process may run before the test says what the guest looks like. */
const STUCK_MS = 90_000
const STUCK = Symbol('stuck')

async function describeStuckGuest(guest: Guest): Promise<string> {
  const pids = guest.hostPid === undefined ? [] : await processTreePids(guest.hostPid)
  const mappings = await Promise.all(
    pids.map(
      async (pid) => `${pid}: ${(await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '')).split('\n').length - 1}`,
    ),
  )
  return `The process scattering its memory neither ended nor was stopped in ${STUCK_MS / 1000} s (guest alive: ${guest.alive}). Host mappings per sandbox process: ${mappings.join(', ')}. Console:\n${guest.consoleTail()}`
}
