import { copyFile, cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { getCacheDir } from '@vitest-uml/core'
import { resolveImage } from '@vitest-uml/images'
import { resolveKernel } from '@vitest-uml/kernels'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_PATH, runCli } from '../helpers/run-cli.js'
import { listUmlProcesses } from '../helpers/uml-processes.js'

/** The CLI's message for a bad input, with this run's cache and temporary paths made stable. */
function message(stderr: string, ...paths: string[]): string {
  return paths
    .reduce((text, path) => text.replaceAll(path, '<tmp>'), stderr.replaceAll(getCacheDir(), '<cache>'))
    .trim()
}

describe('bad input gets a coded error that names the problem and the fix', () => {
  let scratch: string
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'vitest-uml-bad-input-'))
  })
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true })
    expect(await listUmlProcesses()).toEqual([])
  })

  it.each([
    [['run', '--kernal', '7.2', '--', 'true']],
    [['run', '--memory', '16', '--', 'true']],
    [['run', '--memory', 'lots', '--', 'true']],
    [['run', '--env', 'NO_EQUALS_SIGN', '--', 'true']],
    [['run', '--cwd', 'relative/dir', '--', 'true']],
    [['run', '--kernel', '9.9', '--', 'true']],
    [['run', '--image', 'debian-potato', '--', 'true']],
    [['run', '--share', '/nonexistent/vitest-uml-share', '--', 'true']],
    [['kernels', 'fetch', '2.4']],
    [['kernels', 'frobnicate']],
    [['images', 'build']],
    [['images', 'import', '/nonexistent.tar']],
  ])('vitest-uml %j', async (args) => {
    const result = await runCli(args)
    expect(result.exitCode).not.toBe(0)
    expect(message(result.stderr)).toMatchSnapshot()
  })

  it('reports a damaged image before booting it, and leaves the cache as it was', async () => {
    const cache = join(scratch, 'cache', 'vitest-uml')
    const kernel = await resolveKernel('7.2', { cacheDir: getCacheDir() })
    const image = await resolveImage('debian-bookworm', { cacheDir: getCacheDir() })
    const kernelCopy = join(cache, relative(getCacheDir(), kernel.dir))
    await cp(kernel.dir, kernelCopy, { recursive: true })
    const imageCopy = join(cache, relative(getCacheDir(), image.dir))
    await mkdir(imageCopy, { recursive: true })
    for (const entry of await readdir(image.dir)) {
      if (entry !== 'image.ext4') await copyFile(join(image.dir, entry), join(imageCopy, entry))
    }
    const env = { XDG_CACHE_HOME: join(scratch, 'cache') }
    const run = () =>
      execa(process.execPath, [CLI_PATH, 'run', '--image', 'debian-bookworm', '--', 'true'], { reject: false, env })

    // Cut short: the superblock is there, the rest of the file system is not.
    await execa('sh', ['-c', `head -c 4194304 "${image.path}" > "${join(imageCopy, 'image.ext4')}"`])
    const truncated = await run()
    expect(truncated.exitCode).toBe(1)
    expect(message(truncated.stderr, scratch)).toMatchSnapshot()

    // Not an ext4 image at all.
    await writeFile(join(imageCopy, 'image.ext4'), 'not an image')
    const garbage = await run()
    expect(garbage.exitCode).toBe(1)
    expect(message(garbage.stderr, scratch)).toMatchSnapshot()
    expect(await readdir(imageCopy)).toEqual(await readdir(image.dir))
  })

  it('names the package to install when a host tool is missing', async () => {
    const env = { XDG_CACHE_HOME: join(scratch, 'empty-cache'), PATH: '/nonexistent' }
    const result = await execa(process.execPath, [CLI_PATH, 'images', 'build', 'debian-bookworm'], {
      reject: false,
      env,
      extendEnv: false,
    })
    expect(result.exitCode).toBe(1)
    expect(message(result.stderr)).toMatchSnapshot()
  })
})
