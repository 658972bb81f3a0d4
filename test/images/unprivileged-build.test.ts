import { chmod, chown, copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InstalledImage } from 'vitest-pool-uml/api'
import { statInImage } from '../helpers/debugfs.js'
import { makeTestRootfs, OTHER_ID } from '../helpers/test-rootfs.js'

const script = fileURLToPath(new URL('./fixtures/as-user.mjs', import.meta.url))
const user = `vuml-${process.pid}`
/** gid of the `shadow` group, uid of `_apt`, in Debian's base-passwd. */
const SHADOW_GID = 42
const APT_UID = 42

let workDir: string
let cacheDir: string

beforeAll(async () => {
  // useradd gives the user subordinate id ranges in /etc/subuid and /etc/subgid.
  await execa('useradd', ['--create-home', '--shell', '/bin/sh', user])
  const { stdout: uid } = await execa('id', ['-u', user])
  workDir = await mkdtemp(join(tmpdir(), 'vitest-uml-unprivileged-'))
  cacheDir = join(workDir, 'cache')
  await makeTestRootfs(workDir, join(workDir, 'rootfs.tar'))
  await chown(workDir, Number(uid), Number(uid))
  await chmod(workDir, 0o755)
}, 120_000)

afterAll(async () => {
  await execa('userdel', ['--remove', user], { reject: false })
  if (workDir) await rm(workDir, { recursive: true, force: true })
})

describe('as an unprivileged user', () => {
  it('builds and imports images whose files keep their owners', { timeout: 300_000 }, async () => {
    const [built, imported] = (await runAsUser(
      'build-and-import',
      cacheDir,
      join(workDir, 'rootfs.tar'),
    )) as InstalledImage[]
    if (!built || !imported) throw new Error('the script printed no images')

    expect(await statInImage(built.path, '/usr/bin/su')).toMatchObject({ mode: 0o4755, uid: 0, gid: 0 })
    expect(await statInImage(built.path, '/etc/shadow')).toMatchObject({ mode: 0o640, uid: 0, gid: SHADOW_GID })
    expect(await statInImage(built.path, '/sbin/vitest-uml-init')).toMatchObject({ mode: 0o755, uid: 0, gid: 0 })
    expect(await statInImage(built.path, '/var/cache/apt/archives/partial')).toMatchObject({
      uid: APT_UID,
      mode: 0o700,
    })

    expect(await statInImage(imported.path, '/etc/secret')).toMatchObject({ mode: 0o640, uid: OTHER_ID, gid: OTHER_ID })
    expect(await statInImage(imported.path, '/usr/bin/setuid-tool')).toMatchObject({ mode: 0o4755, uid: 0 })
    expect(await statInImage(imported.path, '/usr/sbin/vitest-uml-init')).toMatchObject({ mode: 0o755, uid: 0 })

    // Nothing left over: no unpacked trees owned by subordinate ids, no temporary entries.
    expect(await readdir(join(cacheDir, 'images', 'debian-bookworm'))).toEqual([built.hash])
    expect((await readdir(built.dir)).sort()).toEqual(['image.ext4', 'image.json'])
    expect((await readdir(imported.dir)).sort()).toEqual(['image.ext4', 'image.json'])
  })

  it(
    "says tar failed when owners do not fit in the user's subordinate ids, leaving nothing",
    { timeout: 120_000 },
    async () => {
      const tarball = join(workDir, 'far-owner.tar')
      await copyFile(join(workDir, 'rootfs.tar'), tarball)
      await writeFile(join(workDir, 'far'), 'owned by an id beyond 65536\n')
      await execa('tar', [
        '--append',
        `--file=${tarball}`,
        '--owner=70000',
        '--group=70000',
        '--numeric-owner',
        `--directory=${workDir}`,
        'far',
      ])
      await chmod(tarball, 0o644)

      const failed = (await runAsUser('import', cacheDir, tarball)) as { code: string; message: string }
      expect(failed.code).toBe('UML_IMAGE_IMPORT_FAILED')
      expect(failed.message).toContain(
        'tar could not unpack the root file system (exit 2). Check that the tarball is intact and that its owners fit in 65536 user and group ids.',
      )
      expect(failed.message).toContain('Cannot change ownership to uid 70000')
      expect(await readdir(join(cacheDir, 'images'))).not.toContain('other')
    },
  )

  it('removes an image even when a killed build left files owned by subordinate ids', { timeout: 60_000 }, async () => {
    const imageDir = join(cacheDir, 'images', 'left-over')
    const staging = join(imageDir, '.0123456789abcdef.tmp-1-00000000', 'work', 'staging')
    const setup = `mkdir -p ${staging}/etc && touch ${staging}/etc/shadow && chown -R 42:42 ${staging} && chmod 700 ${staging}/etc`
    await execa('/usr/sbin/runuser', [
      '-u',
      user,
      '--',
      'unshare',
      '--map-auto',
      '--map-root-user',
      '--',
      'sh',
      '-c',
      setup,
    ])
    const plainRm = await execa('/usr/sbin/runuser', ['-u', user, '--', 'rm', '-rf', imageDir], { reject: false })
    expect(plainRm.stderr).toContain('Permission denied')

    expect(await runAsUser('remove', cacheDir, 'left-over')).toBe(true)
    expect(await readdir(join(cacheDir, 'images'))).not.toContain('left-over')
  })
})

async function runAsUser(...args: string[]): Promise<unknown> {
  const result = await execa('/usr/sbin/runuser', ['-u', user, '--', process.execPath, script, ...args], {
    cwd: workDir,
    extendEnv: false,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: `/home/${user}`, LANG: 'C.UTF-8' },
    reject: false,
  })
  expect(result.failed, result.message).toBe(false)
  expect(result.stderr).toBe('')
  return JSON.parse(result.stdout)
}
