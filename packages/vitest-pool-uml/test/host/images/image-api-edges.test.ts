import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isUmlError } from '../../../src/host/core/index.js'
import { buildImage, importImage, listImages, removeImage, resolveImage } from '../../../src/host/images/index.js'

let cacheDir: string
beforeEach(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'vitest-uml-images-'))
})
afterEach(async () => {
  await rm(cacheDir, { recursive: true, force: true })
})

/** The code of the error `promise` rejects with, and its message. */
async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isUmlError(error)) throw new Error(`expected a UmlError, got ${String(error)}`)
  return { code: error.code, message: error.message }
}

describe('before anything is built or read', () => {
  it('tells unknown images from recipes that are not built, naming the command that builds one', async () => {
    const unknown = await failure(resolveImage('no-such-image', { cacheDir }))
    expect(unknown.code).toBe('UML_IMAGE_UNKNOWN')
    expect(unknown.message).toContain('debian-trixie')
    const notBuilt = await failure(resolveImage('debian-sid', { cacheDir }))
    expect(notBuilt.code).toBe('UML_IMAGE_NOT_BUILT')
    expect(notBuilt.message).toContain('vitest-uml images build debian-sid')
  })

  it('refuses to import under a recipe’s name or a name that is not a safe directory name', async () => {
    for (const name of ['debian-trixie', '../escape', 'Upper']) {
      expect((await failure(importImage('/nonexistent.tar', { name, cacheDir }))).code).toBe('UML_INVALID_OPTIONS')
    }
    expect((await failure(importImage(join(cacheDir, 'missing.tar'), { name: 'x', cacheDir }))).code).toBe(
      'UML_IMAGE_IMPORT_FAILED',
    )
  })

  it('rejects unknown recipes and a relative cache dir, naming the option', async () => {
    const unknown = await failure(buildImage('debian-potato', { cacheDir }))
    expect(unknown.code).toBe('UML_IMAGE_UNKNOWN')
    expect(unknown.message).toContain('debian-bookworm')
    const relative = await failure(buildImage('debian-bookworm', { cacheDir: 'relative/dir' }))
    expect(relative).toEqual({
      code: 'UML_INVALID_OPTIONS',
      message: 'Invalid options for buildImage(): cacheDir: an absolute path. Fix them and retry.',
    })
  })

  it('lists every recipe as not built in an empty cache, and removes nothing', async () => {
    const listed = await listImages({ cacheDir })
    expect(listed.map((image) => [image.name, image.source, image.built, image.sizeOnDisk])).toEqual([
      ['debian-bookworm', 'recipe', false, 0],
      ['debian-bullseye', 'recipe', false, 0],
      ['debian-sid', 'recipe', false, 0],
      ['debian-trixie', 'recipe', false, 0],
    ])
    expect(await removeImage('debian-sid', { cacheDir })).toBe(false)
    expect((await failure(removeImage('never-imported', { cacheDir }))).code).toBe('UML_IMAGE_UNKNOWN')
    expect(await readdir(cacheDir)).toEqual([])
  })
})
