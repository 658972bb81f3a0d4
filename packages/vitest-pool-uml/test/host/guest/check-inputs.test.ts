import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkGuestInputs } from '../../../src/host/guest/check-inputs.js'
import { parseGuestOptions } from '../../../src/host/guest/guest-options.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitest-uml-inputs-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** A file with an ext4 superblock that says the file system has `blocks` blocks of 4 KiB. */
async function fakeImage(name: string, blocks: number, size: number): Promise<string> {
  const path = join(dir, name)
  const superblock = Buffer.alloc(1024 + 64)
  superblock.writeUInt32LE(blocks, 1024 + 0x04)
  superblock.writeUInt32LE(2, 1024 + 0x18) // 1024 << 2: 4 KiB blocks
  superblock.writeUInt16LE(0xef53, 1024 + 0x38)
  await writeFile(path, superblock)
  await truncate(path, size)
  return path
}

const options = (imagePath: string, extra: object = {}) =>
  parseGuestOptions({ kernel: { name: '7.2', dir, supportsSeccomp: true }, imagePath, cacheDir: dir, ...extra })

/** The code and short message checkGuestInputs rejects with. */
const rejection = (input: ReturnType<typeof options>) =>
  checkGuestInputs(input).then(
    () => undefined,
    (error: { code: string; shortMessage: string }) => ({ code: error.code, shortMessage: error.shortMessage }),
  )

describe('checkGuestInputs', () => {
  it('accepts an image as long as its file system, and shares that are directories', async () => {
    const image = await fakeImage('whole.ext4', 1024, 4 * 1024 * 1024)
    expect(await rejection(options(image, { shares: [{ hostPath: dir }] }))).toBeUndefined()
  })

  it('calls an image cut short, or without a superblock, damaged and says how to rebuild it', async () => {
    const short = await fakeImage('short.ext4', 1024, 2 * 1024 * 1024)
    expect(await rejection(options(short))).toEqual({
      code: 'UML_IMAGE_CORRUPT',
      shortMessage: expect.stringContaining('it is 2097152 bytes long, but its file system needs 4194304'),
    })
    const garbage = join(dir, 'garbage.ext4')
    await writeFile(garbage, 'not an image')
    expect(await rejection(options(garbage))).toMatchObject({ code: 'UML_IMAGE_CORRUPT' })
    expect((await rejection(options(garbage)))?.shortMessage).toContain('vitest-uml images rm <name>')
  })

  it('tells a missing image, a share that is no directory and more memory than the host has apart', async () => {
    expect(await rejection(options(join(dir, 'missing.ext4')))).toMatchObject({ code: 'UML_IMAGE_NOT_BUILT' })
    const image = await fakeImage('ok.ext4', 16, 64 * 1024)
    expect(await rejection(options(image, { shares: [{ hostPath: join(dir, 'nope') }] }))).toMatchObject({
      code: 'UML_INVALID_OPTIONS',
    })
    expect(await rejection(options(image, { memoryMiB: 64 * 1024 * 1024 }))).toMatchObject({
      code: 'UML_MEMORY_UNAVAILABLE',
    })
  })

  it('rejects options that are not options at the edge, with a coded error', () => {
    expect(() => options('relative.ext4', { memoryMiB: 1 })).toThrow(/Invalid guest options: memoryMiB: Too small/)
  })
})
