import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { exists, writeDirAtomically } from '../../../src/host/core/atomic-dir.js'

let root: string
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vitest-uml-atomic-'))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('writeDirAtomically', () => {
  it('installs what the build wrote under the target name, and nothing beside it', async () => {
    const target = join(root, 'images', 'tiny', 'abc')
    expect(await writeDirAtomically(target, (dir) => writeFile(join(dir, 'image.json'), '{}'))).toBe(true)
    expect(await readFile(join(target, 'image.json'), 'utf8')).toBe('{}')
    expect(await readdir(join(root, 'images', 'tiny'))).toEqual(['abc'])
  })

  it('leaves nothing when the build fails, not even the parents it made', async () => {
    const target = join(root, 'images', 'tiny', 'abc')
    const failed = writeDirAtomically(target, async (dir) => {
      await writeFile(join(dir, 'half'), 'x')
      throw new Error('build failed')
    })
    await expect(failed).rejects.toThrow('build failed')
    expect(await readdir(root)).toEqual([])
  })

  it('keeps a parent that existed before a failed build', async () => {
    const target = join(root, 'abc')
    await expect(writeDirAtomically(target, () => Promise.reject(new Error('no')))).rejects.toThrow('no')
    expect(await exists(root)).toBe(true)
    expect(await readdir(root)).toEqual([])
  })

  it('installs one copy when builds race, and the others are told theirs was not', async () => {
    const target = join(root, 'kernels', '7.2')
    const installed = await Promise.all(
      [1, 2, 3].map((n) => writeDirAtomically(target, (dir) => writeFile(join(dir, 'by'), String(n)))),
    )
    expect(installed.filter(Boolean)).toHaveLength(1)
    expect(await readdir(join(root, 'kernels'))).toEqual(['7.2'])
    expect(await readFile(join(target, 'by'), 'utf8')).toBe(String(installed.indexOf(true) + 1))
  })
})
