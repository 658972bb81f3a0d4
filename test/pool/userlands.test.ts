import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { buildBusyboxRoot } from '../helpers/busybox-rootfs.js'
import { createFixtureProject, type FixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { runCli } from '../helpers/run-cli.js'
import { fileCounts, runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

const IMAGE = 'busybox-e2e'

async function buildBusyboxTarball(dir: string): Promise<string> {
  const tarball = join(dir, 'busybox-rootfs.tar')
  await execa('tar', ['-C', await buildBusyboxRoot(dir), '-cf', tarball, '.'])
  return tarball
}

let scratch: string
let fixture: FixtureProject

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'vitest-uml-busybox-'))
  const imported = await runCli(['images', 'import', await buildBusyboxTarball(scratch), '--name', IMAGE])
  expect(imported.exitCode, imported.all).toBe(0)
  fixture = await createFixtureProject('userlands', {
    'vitest.config.ts': umlConfig({ matrix: { kernel: ['7.2'], image: ['debian-trixie', IMAGE] } }, { maxWorkers: 2 }),
    'test/userland.test.ts': `import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { expect, it } from 'vitest'

it('runs the host Node in this userland', () => {
  const busyboxOnly = process.env.VITEST_UML_IMAGE === '${IMAGE}'
  // In a session of a booted guest, the worker's parent is the session's init.
  console.log('cell ' + process.env.VITEST_UML_IMAGE + ' node ' + process.version + ' os-release ' + existsSync('/etc/os-release') + ' session ' + (process.ppid === 1))
  expect(existsSync('/etc/os-release')).toBe(!busyboxOnly)
  expect(existsSync('/lib/x86_64-linux-gnu/libc.so.6') || existsSync('/usr/lib/x86_64-linux-gnu/libc.so.6')).toBe(!busyboxOnly)
  expect(execFileSync('sh', ['-c', 'echo shell works'], { encoding: 'utf8' }).trim()).toBe('shell works')
})
`,
  })
})

afterAll(async () => {
  await fixture?.remove()
  await runCli(['images', 'rm', IMAGE])
  await rm(scratch, { recursive: true, force: true })
})

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

it('runs the same tests on a Debian image and on an imported busybox-only image, as matrix cells', async () => {
  const run = await runVitest(fixture.root, ['run'])
  expect(run.exitCode, run.output).toBe(0)
  expect(fileCounts(run)).toEqual({ passed: 2, failed: 0 })
  // Sessions need no tool from the userland: busybox runs them too.
  expect(run.output).toContain(`cell debian-trixie node ${process.version} os-release true session true`)
  expect(run.output).toContain(`cell ${IMAGE} node ${process.version} os-release false session true`)
  expect(run.output).not.toContain('cannot run test files in sessions')
})
