import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getCacheDir, resolveImage, resolveKernel } from 'vitest-pool-uml/api'
import { expectKernelLevelAttackFailed, kernelLevelAttack } from '../helpers/guest-attacks.js'
import { CLI_PATH } from '../helpers/run-cli.js'

const USER = 'vitest-uml-e2e'

/** A throw-away host user with no privileges: guests must still boot, with root inside. */
describe('an unprivileged host user', () => {
  let home: string

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error('This test creates a throw-away host user, so it must run as root (CI does).')
    await execa('userdel', ['-r', USER], { reject: false })
    home = await mkdtemp(join(tmpdir(), 'vitest-uml-home-'))
    await rm(home, { recursive: true })
    await execa('useradd', ['--create-home', '--home-dir', home, '--shell', '/bin/sh', USER])
    // The user gets its own cache holding copies of a kernel and an image (root's cache may not be
    // readable to it); it prepares the guest Node runtime itself.
    const rootCache = getCacheDir()
    const userCache = join(home, '.cache', 'vitest-uml')
    const kernel = await resolveKernel('7.2', { cacheDir: rootCache })
    const image = await resolveImage('debian-bookworm', { cacheDir: rootCache })
    for (const dir of [kernel.dir, image.dir]) {
      const copy = join(userCache, relative(rootCache, dir))
      await mkdir(dirname(copy), { recursive: true })
      // cp(1) keeps the 4 GiB image sparse; fs.cp would write every byte.
      await execa('cp', ['-r', '--sparse=always', dir, copy])
    }
    await execa('chown', ['-R', `${USER}:${USER}`, home])
  })

  afterAll(async () => {
    await execa('userdel', ['-r', USER], { reject: false })
    await rm(home, { recursive: true, force: true })
  })

  /** `vitest-uml run -- sh -c <script>` as the throw-away user, with its own HOME and cache. */
  const runAsUser = (script: string) =>
    execa(
      'runuser',
      ['-u', USER, '--', process.execPath, CLI_PATH, 'run', '--image', 'debian-bookworm', '--', 'sh', '-c', script],
      {
        reject: false,
        env: { HOME: home, PATH: process.env.PATH },
        extendEnv: false,
      },
    )

  it('runs a guest in which it is root, and gains nothing on the host', async () => {
    const script = 'id -u; touch /etc/only-root && echo wrote-etc'
    const result = await runAsUser(script)
    expect(result.stderr).not.toContain('UML_')
    expect(result.exitCode).toBe(0)
    expect(result.stdout.split('\n').slice(0, 2)).toEqual(['0', 'wrote-etc'])
    // The guest machinery ran as the user: the Node runtime it prepared in its cache is its own.
    const owner = await execa('stat', ['-c', '%U', join(home, '.cache', 'vitest-uml', 'node')])
    expect(owner.stdout.trim()).toBe(USER)
  })

  it('cannot reach its own host files from guest root, through hostfs, kernel modules or the mconsole', async () => {
    const canary = join(home, 'canary.txt')
    await writeFile(canary, 'user secret')
    await execa('chown', [`${USER}:${USER}`, canary])
    const script = [
      'mkdir -p /m',
      `mount -t hostfs none /m 2>/dev/null; cat /m${canary} 2>&1; umount /m 2>/dev/null`,
      `mount -t hostfs -o hostfs=${home} none /m 2>/dev/null; cat /m/canary.txt 2>&1; umount /m 2>/dev/null`,
      `mount -t hostfs -o hostfs=../../../.. none /m 2>/dev/null; cat /m${canary} 2>&1; umount /m 2>/dev/null`,
      'true',
    ].join('; ')
    const result = await runAsUser(script)
    expect(result.exitCode).toBe(0)
    expect(result.stdout).not.toContain('user secret')
    const kernelLevel = await runAsUser(kernelLevelAttack(canary))
    expectKernelLevelAttackFailed(kernelLevel.stdout, 'user secret')
    expect(await readFile(canary, 'utf8')).toBe('user secret')
  })
})
