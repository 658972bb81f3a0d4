import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { removeAbandonedEntries, temporaryEntryName } from '../../../src/host/core/abandoned-entries.js'

let cacheDir: string
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'vitest-uml-abandoned-'))
})
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true })
})

/** A stream to hand removeAbandonedEntries, and what was written to it. */
function capture() {
  const output = new PassThrough()
  const chunks: string[] = []
  output.on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
  return { output, said: () => chunks.join('') }
}

it('removes half-built entries of dead processes, with parents left empty, keeps live ones, and says so', async () => {
  const deadPid = spawnSync('true').pid
  const dead = [
    join(cacheDir, 'kernels', temporaryEntryName('7.2-7.2um1', deadPid, '0a1b2c3d')),
    join(cacheDir, 'images', 'slow', temporaryEntryName('abc', deadPid, 'deadbeef')),
  ]
  const live = join(cacheDir, 'node', temporaryEntryName('v20', process.pid, '12345678'))
  // Another container's or machine's pid: not ours to judge.
  const foreign = join(cacheDir, 'node', `.v21.tmp-${deadPid}-ffffffff-12345678`)
  const complete = join(cacheDir, 'kernels', '6.1-6.1um4_b13')
  for (const dir of [...dead, live, foreign, complete]) {
    await mkdir(dir, { recursive: true })
    await writeFile(join(dir, 'file'), 'x')
  }
  const { output, said } = capture()

  const removed = await removeAbandonedEntries(cacheDir, { stream: output })

  expect(removed.sort()).toEqual([...dead].sort())
  expect(await readdir(join(cacheDir, 'kernels'))).toEqual(['6.1-6.1um4_b13'])
  expect(await readdir(join(cacheDir, 'images'))).toEqual([])
  expect((await readdir(join(cacheDir, 'node'))).sort()).toEqual([basename(foreign), basename(live)].sort())
  expect(said()).toContain('removed what an earlier run left half-built when it was killed')
  for (const path of dead) expect(said()).toContain(path)
})

it('reports an entry it cannot remove, and goes on', async () => {
  const deadPid = spawnSync('true').pid
  const stuck = join(cacheDir, 'images', 'x', temporaryEntryName('a', deadPid, '00000000'))
  await mkdir(stuck, { recursive: true })
  const { output, said } = capture()
  const removed = await removeAbandonedEntries(cacheDir, {
    stream: output,
    remove: async () => {
      throw new Error('Permission denied')
    },
  })
  expect(removed).toEqual([])
  expect(said()).toContain(`could not remove what an earlier run left half-built; remove it by hand`)
  expect(said()).toContain(`${stuck} (Permission denied)`)
})

it('says nothing when nothing was abandoned, and accepts a cache that does not exist yet', async () => {
  const { output, said } = capture()
  expect(await removeAbandonedEntries(join(cacheDir, 'missing'), { stream: output })).toEqual([])
  expect(said()).toBe('')
})
