import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchKernel, getInstalledKernel, isUmlError, listKernels, resolveKernel } from 'vitest-pool-uml/api'

// Real network: downloads the pinned 7.2 kernel and trixie's libc from the Debian mirror (~40 MB).
describe('fetchKernel("7.2") for real', () => {
  let cacheDir: string

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'vitest-uml-kernels-real-'))
  })

  afterAll(async () => {
    await rm(cacheDir, { recursive: true, force: true })
  })

  it('stores nothing when the download fails: no entry, no half-built directory', async () => {
    const error = await fetchKernel('7.2', { cacheDir, mirror: 'http://127.0.0.1:9/debian' }).catch(
      (caught: unknown) => caught,
    )
    expect(isUmlError(error, 'UML_KERNEL_FETCH_FAILED')).toBe(true)
    expect(await readdir(join(cacheDir, 'kernels')).catch(() => [])).toEqual([])
    expect(await getInstalledKernel('7.2', { cacheDir })).toBeUndefined()
  })

  it('prepares one entry when two fetches race, with a kernel that starts and has SECCOMP', async () => {
    const options = { cacheDir }
    const [first, second] = await Promise.all([fetchKernel('7.2', options), fetchKernel('7.2', options)])
    expect(second).toEqual(first)
    expect(first).toMatchObject({
      name: '7.2',
      release: '7.2.7',
      supportsSeccomp: true,
      supportsTimeTravel: false,
      suite: 'sid',
    })

    expect(await readdir(join(cacheDir, 'kernels'))).toEqual(['7.2-7.2um1'])
    expect((await readdir(first.dir)).sort()).toEqual(['kernel.json', 'lib', 'linux', 'modules'])
    expect(await readdir(join(first.dir, 'modules'))).toEqual(['7.2.7'])
    expect((await readdir(join(first.dir, 'lib'))).sort()).toEqual([
      'ld-linux-x86-64.so.2',
      'libc.so.6',
      'libgcc_s.so.1',
    ])
    const metadata = JSON.parse(await readFile(join(first.dir, 'kernel.json'), 'utf8'))
    expect(metadata).toEqual({
      name: '7.2',
      release: '7.2.7',
      suite: 'sid',
      packageVersion: '7.2um1',
      supportsSeccomp: true,
      // Debian builds its kernels without time travel.
      supportsTimeTravel: false,
      libs: 'pinned',
    })

    // Cached now: no mirror is needed any more.
    expect(await fetchKernel('7.2', { cacheDir, mirror: 'http://127.0.0.1:9/unreachable' })).toEqual(first)
    expect(await resolveKernel('7.2', { cacheDir })).toEqual(first)
    expect((await listKernels({ cacheDir })).find((kernel) => kernel.name === '7.2')?.installed).toEqual(first)
  }, 180_000)
})
