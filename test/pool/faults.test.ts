import { existsSync } from 'node:fs'
import { mkdtemp, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { fileResults, runVitest, startVitest } from '../helpers/run-vitest.js'
import { useScratchDir } from '../helpers/scratch-dir.js'
import { seedCache } from '../helpers/seed-cache.js'
import { listUmlProcesses, waitForNoUmlProcesses } from '../helpers/uml-processes.js'
import { waitFor } from '../helpers/wait-for.js'

const scratch = useScratchDir('vitest-uml-faults-')
afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

const passingFile = `import { expect, it } from 'vitest'
it('passes', () => expect(1).toBe(1))
`

/** A test that tells the host it is running (a file in a writable share), then waits to be stopped. */
const waitingFile = (readyPath: string) => `import { writeFileSync } from 'node:fs'
import { it } from 'vitest'
it('waits', async () => {
  writeFileSync(${JSON.stringify(readyPath)}, '')
  await new Promise((resolve) => setTimeout(resolve, 300_000))
}, 600_000)
`

async function killRunGuests(): Promise<number> {
  const guests = listUmlProcesses()
  for (const entry of guests) process.kill(Number(entry.split(' ')[0]), 'SIGKILL')
  return guests.length
}

describe('faults under the pool', () => {
  it('fails the file that writes past its disk limit, whose UML process is killed, or whose worker is killed, and runs the rest', async () => {
    const signals = await mkdtemp(join(scratch(), 'signals-'))
    // Files run one at a time, by name, each on a guest booted for it (no warm guest), so the kill
    // hits only a-killed's guest, and the others come after.
    const fixture = await createFixtureProject('disk-kill', {
      'vitest.config.ts': `import { uml } from 'vitest-pool-uml'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

class ByName extends BaseSequencer {
  async sort(files: TestSpecification[]) {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId))
  }
}

export default defineConfig({
  plugins: [uml(${JSON.stringify({ disk: 128, warmGuests: 0, shares: [{ path: signals, writable: true }] })})],
  test: { maxWorkers: 1, sequence: { sequencer: ByName } },
})
`,
      'test/a-killed.test.ts': waitingFile(join(signals, 'ready')),
      'test/b-fills-disk.test.ts': `import { execSync } from 'node:child_process'
import { it } from 'vitest'
it('writes more than the disk limit', () => {
  execSync('dd if=/dev/zero of=/fill bs=1M count=256 2>&1 && sync')
}, 60_000)
`,
      'test/c-fine.test.ts': passingFile,
      'test/d-worker-killed.test.ts': `import { execSync } from 'node:child_process'
import { it } from 'vitest'
it('has its worker killed by another guest process', () => {
  execSync('kill -9 ' + process.pid)
})
`,
    })
    try {
      const vitest = startVitest(fixture.root, ['run', '--pool=uml'])
      await waitFor('a-killed.test.ts to start', () => existsSync(join(signals, 'ready')))
      expect(await killRunGuests()).toBeGreaterThan(0)
      const run = await vitest.result
      expect(run.exitCode, run.output).toBe(1)
      // Each file failed with its own guest's cause; the one in between passed.
      const files = fileResults(run, fixture.root)
      expect(Object.keys(files).sort()).toEqual([
        'test/a-killed.test.ts',
        'test/b-fills-disk.test.ts',
        'test/c-fine.test.ts',
        'test/d-worker-killed.test.ts',
      ])
      expect(files['test/a-killed.test.ts']).toMatchObject({
        status: 'failed',
        message: expect.stringContaining(
          "[UML_GUEST_KILLED] The guest's UML process (kernel 7.2) was killed with SIGKILL",
        ),
      })
      expect(files['test/b-fills-disk.test.ts']).toMatchObject({
        status: 'failed',
        message: expect.stringContaining(
          '[UML_GUEST_DISK_FULL] The guest (kernel 7.2) wrote more than its disk limit (128 MiB',
        ),
      })
      expect(files['test/b-fills-disk.test.ts']?.message).toContain('critical space allocation error, dev ubda')
      expect(files['test/c-fine.test.ts']?.status).toBe('passed')
      expect(files['test/d-worker-killed.test.ts']).toMatchObject({
        status: 'failed',
        message: expect.stringContaining(
          '[UML_WORKER_EXITED] The test worker in the guest exited unexpectedly (signal SIGKILL)',
        ),
      })
    } finally {
      await fixture.remove()
    }
  })

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'stops every guest and leaves no temp file when vitest gets %s mid-run',
    async (signal) => {
      const signals = await mkdtemp(join(scratch(), 'signals-'))
      const temp = await mkdtemp(join(scratch(), 'tmp-'))
      const fixture = await createFixtureProject('interrupted', {
        'vitest.config.ts': umlConfig({ shares: [{ path: signals, writable: true }] }, { maxWorkers: 2 }),
        'test/one.test.ts': waitingFile(join(signals, 'one')),
        'test/two.test.ts': waitingFile(join(signals, 'two')),
      })
      try {
        const vitest = startVitest(fixture.root, ['run', '--pool=uml'], { TMPDIR: temp })
        await waitFor('both files to start', () => existsSync(join(signals, 'one')) && existsSync(join(signals, 'two')))
        vitest.process.kill(signal)
        const run = await vitest.result
        expect(run.exitCode === 0).toBe(false)
        expect(await waitForNoUmlProcesses()).toEqual([])
        expect(await readdir(temp)).toEqual([])
      } finally {
        await fixture.remove()
      }
    },
  )

  it('after vitest is killed with SIGKILL mid-build, leaves no guest, and the next run removes what it left and says so', async () => {
    const cacheHome = await seedCache(scratch(), { kernels: ['7.2'], images: ['debian-trixie'] })
    const env = { XDG_CACHE_HOME: cacheHome }
    const fixture = await createFixtureProject('killed-run', {
      'vitest.config.ts': umlConfig({ image: 'slow', images: { slow: { from: 'debian-trixie', setup: 'sleep 600' } } }),
      'fast.config.ts': umlConfig(),
      'test/fine.test.ts': passingFile,
    })
    try {
      const vitest = startVitest(fixture.root, ['run', '--pool=uml'], env)
      await waitFor('the setup guest to boot', async () => listUmlProcesses().length > 0)
      const slowDir = join(cacheHome, 'vitest-uml', 'images', 'slow')
      const halfBuilt = await readdir(slowDir)
      expect(halfBuilt).toEqual([expect.stringMatching(/^\..+\.tmp-\d+-[0-9a-f]{8}-[0-9a-f]+$/)])
      vitest.process.kill('SIGKILL')
      expect((await vitest.result).signal).toBe('SIGKILL')
      // The guests go with the process that started them, at once.
      expect(await waitForNoUmlProcesses(5000)).toEqual([])
      expect(await readdir(slowDir)).toEqual(halfBuilt)

      const next = await runVitest(fixture.root, ['run', '--pool=uml', '--config', 'fast.config.ts'], env)
      expect(next.exitCode, next.output).toBe(0)
      expect(next.output).toContain('vitest-uml: removed what an earlier run left half-built when it was killed:')
      expect(next.output).toContain(join(slowDir, halfBuilt[0] ?? ''))
      expect(existsSync(slowDir)).toBe(false)
    } finally {
      await fixture.remove()
    }
  })
})
