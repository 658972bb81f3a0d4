import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { execa } from 'execa'
import { pack } from 'tar-fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exists, importImage, isUmlError, listImages, removeImage, resolveImage } from 'vitest-pool-uml/api'
import { listInImage, statInImage } from '../helpers/debugfs.js'
import { makeTestRootfs, OTHER_ID } from '../helpers/test-rootfs.js'

let workDir: string
let cacheDir: string
let tarball: string

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'vitest-uml-import-'))
  cacheDir = join(workDir, 'cache')
  tarball = join(workDir, 'rootfs.tar')
  await makeTestRootfs(workDir, tarball)
})

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true })
})

async function importError(path: string, name = 'broken'): Promise<unknown> {
  return importImage(path, { name, cacheDir }).then(
    () => undefined,
    (error: unknown) => error,
  )
}

describe('importImage', () => {
  it('turns a rootfs tarball into an image with owners, modes and the init stub', async () => {
    const image = await importImage(tarball, { name: 'tiny', cacheDir })
    expect(image).toMatchObject({
      name: 'tiny',
      source: 'import',
      osRelease: { ID: 'testos', PRETTY_NAME: 'Test OS "tiny"' },
    })
    expect(image.path).toBe(join(cacheDir, 'images', 'tiny', image.hash, 'image.ext4'))
    expect(await statInImage(image.path, '/usr/bin/setuid-tool')).toMatchObject({ mode: 0o4755, uid: 0, gid: 0 })
    expect(await statInImage(image.path, '/etc/secret')).toMatchObject({ mode: 0o640, uid: OTHER_ID, gid: OTHER_ID })
    // /sbin is an absolute symlink to /usr/sbin: the stub must land there, inside the image.
    expect(await statInImage(image.path, '/usr/sbin/vitest-uml-init')).toMatchObject({ mode: 0o755, uid: 0, gid: 0 })
    expect(existsSync('/usr/sbin/vitest-uml-init')).toBe(false)
    expect(await statInImage(image.path, '/proc')).toMatchObject({ type: 'directory', mode: 0o755 })
    expect(await listInImage(image.path, '/dev')).toEqual([])
    expect((await readdir(image.dir)).sort()).toEqual(['image.ext4', 'image.json'])
  })

  it('reads gzip, xz and zstd tarballs', async () => {
    const compressed = [
      [join(workDir, 'rootfs.tar.gz'), 'gzip'],
      [join(workDir, 'rootfs.tar.xz'), 'xz'],
      [join(workDir, 'rootfs.tar.zst'), 'zstd'],
    ] as const
    for (const [path, tool] of compressed) {
      await execa(tool, ['--stdout', tarball], { stdout: { file: path } })
      const image = await importImage(path, { name: `tiny-${tool}`, cacheDir })
      expect(await statInImage(image.path, '/etc/secret')).toMatchObject({ uid: OTHER_ID, mode: 0o640 })
    }
  })

  it('returns the newest import of a name and keeps one entry per tarball when imports race', async () => {
    const again = await Promise.all([1, 2, 3].map(() => importImage(tarball, { name: 'raced', cacheDir })))
    expect(new Set(again.map((image) => image.path)).size).toBe(1)
    expect(await readdir(join(cacheDir, 'images', 'raced'))).toEqual([again[0]!.hash])
    expect((await resolveImage('raced', { cacheDir })).path).toBe(again[0]!.path)
  })

  it('rejects a tarball without /bin/sh, leaving nothing in the cache', async () => {
    const notRootfs = join(workDir, 'docs')
    await mkdir(join(notRootfs, 'share'), { recursive: true })
    await writeFile(join(notRootfs, 'share', 'README'), 'hello\n')
    const docsTar = join(workDir, 'docs.tar')
    await execa('tar', ['--create', `--file=${docsTar}`, `--directory=${notRootfs}`, '.'])
    const error = await importError(docsTar)
    expect(isUmlError(error, 'UML_IMAGE_IMPORT_FAILED')).toBe(true)
    expect((error as Error).message).toContain('no /bin/sh')
    // Not even an empty directory for the image is left.
    expect(await exists(join(cacheDir, 'images', 'broken'))).toBe(false)
  })

  it('rejects entries that point outside the root, and files that are not tarballs', async () => {
    const evilTar = join(workDir, 'evil.tar')
    await pipeToFile(
      pack(join(workDir, 'rootfs', 'usr'), { map: (header) => ({ ...header, name: `../${header.name}` }) }),
      evilTar,
    )
    const evil = await importError(evilTar)
    expect(isUmlError(evil, 'UML_IMAGE_IMPORT_FAILED')).toBe(true)
    expect((evil as Error).message).toContain('outside the root file system')

    const text = join(workDir, 'text.tar')
    await writeFile(text, 'this is not a tar archive\n'.repeat(100))
    const notTar = await importError(text)
    expect(isUmlError(notTar, 'UML_IMAGE_IMPORT_FAILED')).toBe(true)
    expect((notTar as Error).message).toContain('not a readable tar archive')
  })
})

describe('listImages and removeImage', () => {
  it('lists recipes and imports, then removes an import', async () => {
    await importImage(tarball, { name: 'to-remove', cacheDir })
    const listed = await listImages({ cacheDir })
    expect(listed.find((entry) => entry.name === 'debian-sid')).toMatchObject({
      source: 'recipe',
      built: false,
      sizeOnDisk: 0,
    })
    const imported = listed.find((entry) => entry.name === 'to-remove')
    expect(imported).toMatchObject({ source: 'import', built: true })
    expect(imported!.sizeOnDisk).toBeGreaterThan(0)
    expect(imported!.sizeOnDisk).toBeLessThan(64 * 1024 * 1024)

    expect(await removeImage('to-remove', { cacheDir })).toBe(true)
    expect(
      isUmlError(await resolveImage('to-remove', { cacheDir }).catch((error: unknown) => error), 'UML_IMAGE_UNKNOWN'),
    ).toBe(true)
    expect((await listImages({ cacheDir })).some((entry) => entry.name === 'to-remove')).toBe(false)
    expect(await removeImage('debian-sid', { cacheDir })).toBe(false)
  })
})

async function pipeToFile(stream: NodeJS.ReadableStream, path: string): Promise<void> {
  await pipeline(stream, createWriteStream(path))
}
