import { mkdir, readdir, rm, truncate, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import { afterAll, describe, expect, it } from 'vitest'
import { getCacheDir, resolveImage } from 'vitest-pool-uml/api'
import { CLI_PATH, runCli } from '../helpers/run-cli.js'
import { useScratchDir } from '../helpers/scratch-dir.js'
import { seedCache } from '../helpers/seed-cache.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

/** The CLI's message for a bad input, with this run's cache, temporary paths and host size made stable. */
/**
 * The error a run printed, without what varies between machines and runs: paths, host sizes, an
 * image's recipe hash, and the notice of what an earlier, killed run of another test left behind.
 */
function message(stderr: string, ...paths: string[]): string {
  return paths
    .reduce((text, path) => text.replaceAll(path, '<tmp>'), stderr.replaceAll(getCacheDir(), '<cache>'))
    .replace(/^vitest-uml: removed what an earlier run left half-built when it was killed:\n( {2}.*\n)*/m, '')
    .replace(/(\/images\/[^/]+\/)[0-9a-f]{16}\//g, '$1<hash>/')
    .replace(/\(\d+ MiB in all\)/, '(<host> MiB in all)')
    .trim()
}

/** Runs the CLI with the given environment only, so nothing of this run's cache or PATH leaks in. */
function runCliIn(env: Record<string, string>, args: string[], wrapper: string[] = []) {
  const [command = process.execPath, ...rest] = [...wrapper, process.execPath, CLI_PATH, ...args]
  return execa(command, rest, { reject: false, env, extendEnv: false })
}

describe('bad input gets a coded error that names the problem and the fix', () => {
  const scratch = useScratchDir('vitest-uml-bad-input-')
  afterAll(async () => {
    expect(await waitForNoUmlProcesses()).toEqual([])
  })

  it.each([
    [['run', '--kernal', '7.2', '--', 'true']],
    [['run', '--memory', '16', '--', 'true']],
    [['run', '--memory', 'lots', '--', 'true']],
    [['run', '--memory', '100000000', '--', 'true']],
    [['run', '--env', 'NO_EQUALS_SIGN', '--', 'true']],
    [['run', '--cwd', 'relative/dir', '--', 'true']],
    [['run', '--kernel', '9.9', '--', 'true']],
    [['run', '--image', 'debian-potato', '--', 'true']],
    [['run', '--share', '/nonexistent/vitest-uml-share', '--', 'true']],
    [['kernels', 'fetch', '2.4']],
    [['kernels', 'frobnicate']],
    [['run', '--time', 'fast', '--', 'true']],
    [['run', '--clock', 'tomorrow', '--', 'true']],
    [['kernels', 'build']],
    [['kernels', 'build', '7.2', '--config', 'my.config']],
    [['kernels', 'build', 'custom-7.2', '--modules']],
    [['kernels', 'build', 'Mine']],
    [['kernels', 'build', 'mine', '--source', './linux-6.15.tar.xz']],
    [['kernels', 'build', 'mine', '--source', '9.9']],
    [['kernels', 'build', 'custom-9.9']],
    [['images', 'build']],
    [['images', 'import', '/nonexistent.tar']],
  ])('vitest-uml %j', async (args) => {
    const result = await runCli(args)
    expect(result.exitCode).not.toBe(0)
    expect(message(result.stderr)).toMatchSnapshot()
  })

  it('reports a damaged image before booting it, and leaves the cache as it was', async () => {
    const cacheHome = await seedCache(scratch(), { kernels: ['7.2'], images: ['debian-bookworm'] })
    const image = await resolveImage('debian-bookworm', { cacheDir: join(cacheHome, 'vitest-uml') })
    const entries = await readdir(image.dir)
    const run = () =>
      runCliIn({ XDG_CACHE_HOME: cacheHome, PATH: process.env.PATH ?? '' }, [
        'run',
        '--image',
        'debian-bookworm',
        '--',
        'true',
      ])

    // Cut short: the superblock is there, the rest of the file system is not.
    await truncate(image.path, 4 * 1024 * 1024)
    const truncated = await run()
    expect(truncated.exitCode).toBe(1)
    expect(message(truncated.stderr, cacheHome)).toMatchSnapshot()

    // Not an ext4 image at all.
    await writeFile(image.path, 'not an image')
    const garbage = await run()
    expect(garbage.exitCode).toBe(1)
    expect(message(garbage.stderr, cacheHome)).toMatchSnapshot()
    expect(await readdir(image.dir)).toEqual(entries)
  })

  it('names the package to install when a host tool is missing, before building anything', async () => {
    const emptyCache = join(scratch(), 'empty-cache')
    const noMmdebstrap = await runCliIn({ XDG_CACHE_HOME: emptyCache, PATH: '/nonexistent' }, [
      'images',
      'build',
      'debian-bookworm',
    ])
    expect(noMmdebstrap.exitCode).toBe(1)
    expect(message(noMmdebstrap.stderr)).toMatchSnapshot()
    // e2fsprogs lives in /usr/sbin, which is searched whatever PATH says: hide it in a mount namespace.
    const noE2fsprogs = await runCliIn(
      { XDG_CACHE_HOME: emptyCache, PATH: '/usr/bin:/bin' },
      ['images', 'build', 'debian-bookworm'],
      ['unshare', '--mount', 'sh', '-c', 'mount -t tmpfs none /usr/sbin && exec "$@"', 'sh'],
    )
    expect(noE2fsprogs.exitCode).toBe(1)
    expect(message(noE2fsprogs.stderr)).toMatchSnapshot()
    expect(await readdir(scratch())).not.toContain('empty-cache')
  })

  it.each([
    ['mounted noexec', 'noexec,size=2g'],
    ['full', 'size=1m'],
  ])(
    'refuses a cache dir %s before bootstrapping Debian in it, and needs nothing of a TMPDIR like it',
    async (_, mountOptions) => {
      const mountDir = join(scratch(), 'mnt')
      await mkdir(mountDir)
      await execa('mount', ['-t', 'tmpfs', '-o', mountOptions, 'none', mountDir])
      try {
        const path = process.env.PATH ?? ''
        const build = await runCliIn({ XDG_CACHE_HOME: mountDir, PATH: path }, ['images', 'build', 'debian-bookworm'])
        expect(build.exitCode).toBe(1)
        expect(message(build.stderr, scratch())).toMatchSnapshot()
        expect(await readdir(mountDir)).toEqual([])
        // Guests keep their memory and disks in their sandbox, and image builds their work in the cache.
        const run = await runCliIn({ XDG_CACHE_HOME: dirname(getCacheDir()), PATH: path, TMPDIR: mountDir }, [
          'run',
          '--',
          'true',
        ])
        expect(run.stderr).toBe('')
        expect(run.exitCode).toBe(0)
      } finally {
        await execa('umount', [mountDir])
        await rm(mountDir, { recursive: true })
      }
    },
  )
})
