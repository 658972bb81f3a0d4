import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { pack } from 'tar-fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { scanRootfs } from '../../../src/host/images/rootfs-scan.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitest-uml-scan-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A tarball of a tree written from `files` (a string is a file, `{ link }` a symlink). */
async function tarball(files: Record<string, string | { link: string }>, rename?: (name: string) => string) {
  const root = join(dir, 'root')
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true })
    if (typeof content === 'string') await writeFile(join(root, path), content)
    else await symlink(content.link, join(root, path))
  }
  const output = join(dir, 'rootfs.tar')
  await pipeline(
    pack(root, rename && { map: (header) => ({ ...header, name: rename(header.name) }) }),
    createWriteStream(output),
  )
  const scratch = join(dir, 'scratch')
  await mkdir(scratch)
  return scanRootfs(output, scratch)
}

describe('scanRootfs', () => {
  it('reads os-release through a symlink and finds /bin/sh through a symlinked /bin', async () => {
    const scan = await tarball({
      'usr/bin/dash': '#!',
      'usr/bin/sh': { link: 'dash' },
      bin: { link: 'usr/bin' },
      'usr/lib/os-release': 'ID=testos\nPRETTY_NAME="Test OS"\n',
      'etc/os-release': { link: '../usr/lib/os-release' },
    })
    expect(scan.problems).toEqual([])
    expect(scan.osRelease).toEqual({ ID: 'testos', PRETTY_NAME: 'Test OS' })
    expect(scan.index.get('bin')).toEqual({ type: 'symlink', linkname: 'usr/bin' })
  })

  it('adds up the 4 KiB blocks its files take, hard links and symlinks none', async () => {
    const scan = await tarball({
      'bin/sh': '#!',
      'etc/big': 'x'.repeat(4097),
      'etc/empty': '',
      'etc/link': { link: 'big' },
    })
    expect(scan.dataBytes).toBe(4096 + 2 * 4096)
  })

  it('says a tree without /bin/sh is no root file system', async () => {
    const scan = await tarball({ 'share/README': 'hello' })
    expect(scan.problems).toEqual(['it has no /bin/sh'])
    expect(scan.osRelease).toEqual({})
  })

  it('rejects entries that would land outside the root', async () => {
    const scan = await tarball({ 'bin/sh': '#!' }, (name) => `../${name}`)
    expect(scan.problems.some((problem) => problem.includes('points outside the root file system'))).toBe(true)
  })

  it('says a file that is not a tar archive is not one', async () => {
    const notTar = join(dir, 'text.tar')
    await writeFile(notTar, 'this is not a tar archive\n'.repeat(100))
    const scan = await scanRootfs(notTar, dir)
    expect(scan.problems[0]).toContain('not a readable tar archive')
  })
})
