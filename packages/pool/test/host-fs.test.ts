import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serveHostFsRequest } from '../src/host-fs.js'

describe('serveHostFsRequest', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'vitest-uml-hostfs-'))
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })
  const request = (op: 'read' | 'write' | 'remove' | 'mkdir', path: string, content?: string) => ({
    __vitest_uml_fs__: true as const,
    id: 7,
    op,
    path,
    content,
  })

  it('writes, reads and removes files inside the project', async () => {
    const path = join(root, '__snapshots__', 'a.test.ts.snap')
    expect(await serveHostFsRequest(request('write', path, 'snap'), [root])).toEqual({
      __vitest_uml_fs_reply__: true,
      id: 7,
    })
    expect(await readFile(path, 'utf8')).toBe('snap')
    expect((await serveHostFsRequest(request('read', path), [root])).result).toBe('snap')
    await serveHostFsRequest(request('remove', path), [root])
    expect((await serveHostFsRequest(request('read', path), [root])).result).toBeNull()
  })

  it('refuses paths outside the project, also through ..', async () => {
    const outside = await serveHostFsRequest(request('write', join(root, '..', 'escaped.txt'), 'x'), [root])
    expect(outside.error).toContain('only inside the project')
    expect((await serveHostFsRequest(request('read', '/etc/passwd'), [root])).error).toContain(
      'only inside the project',
    )
  })
})
