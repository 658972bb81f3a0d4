import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isUmlError, silentProgress, type UmlError } from '../../../src/host/core/index.js'
import { downloadDeb } from '../../../src/host/kernels/download-deb.js'
import { fetchKernel, getKernelPin, listKernels, resolveKernel } from '../../../src/host/kernels/index.js'
import { type LoopbackMirror, startLoopbackMirror } from './loopback-mirror.js'

const pin = getKernelPin('7.2')

let dir: string
let mirror: LoopbackMirror | undefined

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitest-uml-kernels-'))
})

afterEach(async () => {
  await mirror?.close()
  mirror = undefined
  await rm(dir, { recursive: true, force: true })
})

async function failure(promise: Promise<unknown>): Promise<UmlError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )
  if (!isUmlError(error)) throw new Error(`expected a UmlError, got ${String(error)}`)
  return error
}

/** Downloads the pinned 7.2 kernel package from `url`, expecting it to fail. */
const downloadError = (url: string) => failure(downloadDeb(pin.deb, { mirror: url, dir, progress: silentProgress }))

// What fetchKernel does with such a failure (nothing stored) is tested end to end in test/kernels.
describe('downloadDeb against a misbehaving mirror', () => {
  it('rejects bytes of the right size but the wrong hash', async () => {
    mirror = await startLoopbackMirror((_, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' })
      response.end(Buffer.alloc(pin.deb.size))
    })
    const error = await downloadError(mirror.url)
    expect(error.code).toBe('UML_KERNEL_HASH_MISMATCH')
    expect(error.message).toContain(pin.deb.filename)
    expect(error.message).toContain(`expected sha256 ${pin.deb.sha256}`)
    expect(error.message).toContain('Nothing was stored')
    expect(error.message).toContain('VITEST_UML_DEBIAN_MIRROR')
    expect(mirror.requests).toEqual([`/debian/${pin.deb.filename}`])
    expect(error.message.replaceAll(mirror.url, '<mirror>')).toMatchSnapshot()
  })

  it('rejects a short download as a size mismatch', async () => {
    mirror = await startLoopbackMirror((_, response) => {
      response.end('not a deb')
    })
    const error = await downloadError(mirror.url)
    expect(error.code).toBe('UML_KERNEL_HASH_MISMATCH')
    expect(error.details).toMatchObject({ expected: `${pin.deb.size} bytes`, got: '9 bytes' })
    expect(error.message.replaceAll(mirror.url, '<mirror>')).toMatchSnapshot()
  })

  it('stops reading a response that runs past the pinned size', async () => {
    mirror = await startLoopbackMirror((_, response) => {
      response.end(Buffer.alloc(pin.deb.size + 1))
    })
    const error = await downloadError(mirror.url)
    expect(error.code).toBe('UML_KERNEL_HASH_MISMATCH')
    expect(error.details).toMatchObject({ got: `more than ${pin.deb.size} bytes` })
  })

  it('reports a download cut off mid-way', async () => {
    mirror = await startLoopbackMirror((_, response) => {
      response.writeHead(200, { 'content-length': String(pin.deb.size) })
      response.write(Buffer.alloc(64 * 1024), () => response.destroy())
    })
    const error = await downloadError(mirror.url)
    expect(error.code).toBe('UML_KERNEL_FETCH_FAILED')
    expect(error.message.replaceAll(mirror.url, '<mirror>')).toMatchSnapshot()
  })

  it('says the pin must be updated when the mirror no longer has the version (404)', async () => {
    mirror = await startLoopbackMirror((_, response) => {
      response.writeHead(404).end()
    })
    const error = await downloadError(mirror.url)
    expect(error.code).toBe('UML_KERNEL_FETCH_FAILED')
    expect(error.message).toContain('no longer on the mirror')
    expect(error.message).toContain('kernels/manifest.json')
    expect(error.details).toMatchObject({ status: 404, url: `${mirror.url}/${pin.deb.filename}` })
  })

  it('names the mirror and VITEST_UML_DEBIAN_MIRROR when the mirror cannot be reached', async () => {
    mirror = await startLoopbackMirror(() => {})
    const unreachable = mirror.url
    await mirror.close()
    mirror = undefined
    const error = await downloadError(unreachable)
    expect(error.code).toBe('UML_KERNEL_FETCH_FAILED')
    expect(error.message).toContain(unreachable)
    expect(error.message).toContain('VITEST_UML_DEBIAN_MIRROR')
  })
})

describe('kernel names and the cache', () => {
  it('rejects an unknown kernel name, listing the known ones', async () => {
    const error = await failure(fetchKernel('4.19', { cacheDir: dir }))
    expect(error.code).toBe('UML_KERNEL_UNKNOWN')
    expect(error.message).toContain('5.10, 6.1, 6.12, 7.2')
    await expect(resolveKernel('latest', { cacheDir: dir })).rejects.toMatchObject({ code: 'UML_KERNEL_UNKNOWN' })
  })

  it('rejects a mirror that is not an http(s) URL, and a relative cache dir, before doing anything', async () => {
    const ftp = await failure(fetchKernel('7.2', { cacheDir: dir, mirror: 'ftp://ftp.debian.org/debian' }))
    expect(ftp.code).toBe('UML_INVALID_OPTIONS')
    expect(ftp.message).toContain('mirror')
    const relative = await failure(fetchKernel('7.2', { cacheDir: 'relative/cache' }))
    expect(relative.message).toBe(
      'Invalid options for fetchKernel(): cacheDir: an absolute path. Fix them and retry (the mirror may come from VITEST_UML_DEBIAN_MIRROR).',
    )
  })

  it('tells how to fetch a kernel the cache lacks, and lists it as not installed', async () => {
    await expect(resolveKernel('6.1', { cacheDir: dir })).rejects.toMatchObject({
      code: 'UML_KERNEL_NOT_FETCHED',
      message: expect.stringContaining('vitest-uml kernels fetch 6.1'),
    })
    const listing = await listKernels({ cacheDir: dir })
    expect(listing.map((kernel) => [kernel.name, kernel.isDefault, kernel.libs, kernel.installed])).toEqual([
      ['5.10', false, 'host', undefined],
      ['6.1', false, 'host', undefined],
      ['6.12', false, 'pinned', undefined],
      ['7.2', true, 'pinned', undefined],
    ])
  })
})
