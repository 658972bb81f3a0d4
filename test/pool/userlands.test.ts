import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { createFixtureProject, type FixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { runCli } from '../helpers/run-cli.js'
import { runVitest } from '../helpers/run-vitest.js'
import { listUmlProcesses } from '../helpers/uml-processes.js'

const IMAGE = 'busybox-e2e'

/** A root file system of nothing but Debian's static busybox: no libc, no /lib, no os-release. */
async function buildBusyboxTarball(dir: string): Promise<string> {
  await execa('apt-get', ['download', 'busybox-static'], { cwd: dir })
  const deb = (await readdir(dir)).find((name) => name.endsWith('.deb'))
  if (!deb) throw new Error('apt-get download busybox-static produced no .deb')
  const root = join(dir, 'root')
  await execa('dpkg-deb', ['-x', join(dir, deb), join(dir, 'package')])
  for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run'])
    await mkdir(join(root, sub), { recursive: true })
  await execa('cp', [join(dir, 'package/bin/busybox'), join(root, 'bin/busybox')])
  const { stdout } = await execa(join(root, 'bin/busybox'), ['--list-full'])
  for (const applet of stdout.split('\n').filter(Boolean)) {
    if (applet !== 'bin/busybox') await symlink('/bin/busybox', join(root, applet)).catch(() => {})
  }
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
  const tarball = join(dir, 'busybox-rootfs.tar')
  await execa('tar', ['-C', root, '-cf', tarball, '.'])
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
  console.log('cell ' + process.env.VITEST_UML_IMAGE + ' node ' + process.version + ' os-release ' + existsSync('/etc/os-release'))
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
  expect(await listUmlProcesses()).toEqual([])
})

it('runs the same tests on a Debian image and on an imported busybox-only image, as matrix cells', async () => {
  const run = await runVitest(fixture.root, ['run'])
  expect(run.exitCode, run.output).toBe(0)
  expect(run.output).toContain(`cell debian-trixie node ${process.version} os-release true`)
  expect(run.output).toContain(`cell ${IMAGE} node ${process.version} os-release false`)
  expect(run.output).toMatch(new RegExp(`${IMAGE}@7\\.2`))
})
