import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { addGuestFiles } from '../../../src/host/images/guest-files.js'
import type { RootfsIndex } from '../../../src/host/images/rootfs-index.js'

const index: RootfsIndex = new Map([
  ['', { type: 'directory' }],
  ['etc', { type: 'directory' }],
])

let staging: string
beforeEach(async () => {
  staging = await mkdtemp(join(tmpdir(), 'guest-files-'))
  await mkdir(join(staging, 'etc'))
})
afterEach(() => rm(staging, { recursive: true, force: true }))

const read = (path: string) => readFile(join(staging, path), 'utf8')

describe('addGuestFiles: host name and hosts', () => {
  it("gives the guest its own host name in place of the building host's", async () => {
    await writeFile(join(staging, 'etc/hostname'), 'buildhost\n')
    await addGuestFiles(staging, index)
    expect(await read('etc/hostname')).toBe('vitest-uml\n')
  })

  it("writes Debian's /etc/hosts where there is none or an empty one", async () => {
    await addGuestFiles(staging, index)
    const hosts = await read('etc/hosts')
    expect(hosts).toMatch(/^127\.0\.0\.1\tlocalhost$/m)
    expect(hosts).toMatch(/^::1\tlocalhost ip6-localhost ip6-loopback$/m)
    expect(hosts).toMatch(/^127\.0\.1\.1\tvitest-uml$/m)
    await writeFile(join(staging, 'etc/hosts'), '')
    await addGuestFiles(staging, index)
    expect(await read('etc/hosts')).toBe(hosts)
  })

  it('adds the host name to an existing /etc/hosts once, keeping its entries', async () => {
    await writeFile(join(staging, 'etc/hosts'), '127.0.0.1\tlocalhost\n10.0.0.1 db # the database')
    await addGuestFiles(staging, index)
    await addGuestFiles(staging, index)
    expect(await read('etc/hosts')).toBe('127.0.0.1\tlocalhost\n10.0.0.1 db # the database\n127.0.1.1\tvitest-uml\n')
  })

  it('replaces a symlinked /etc/hosts without reading or writing through it', async () => {
    const outside = join(staging, '..', `outside-${Date.now()}`)
    await writeFile(outside, '192.0.2.1 secret\n')
    await symlink(outside, join(staging, 'etc/hosts'))
    try {
      await addGuestFiles(staging, index)
      expect(await read('etc/hosts')).not.toContain('secret')
      expect(await readFile(outside, 'utf8')).toBe('192.0.2.1 secret\n')
    } finally {
      await rm(outside)
    }
  })
})
