import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildImage,
  ensureImage,
  exists,
  isUmlError,
  listImages,
  type Progress,
  resolveImage,
} from 'vitest-pool-uml/api'
import { statInImage } from '../helpers/debugfs.js'

/** gid of the `shadow` group in Debian's base-passwd. */
const SHADOW_GID = 42

let cacheDir: string

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'vitest-uml-build-'))
})

afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true })
})

describe('buildImage (as root)', () => {
  it('builds debian-bookworm with owners, setuid bits and the init stub', { timeout: 300_000 }, async () => {
    const steps: string[] = []
    const progress: Progress = { start: (label) => steps.push(label), update() {}, end() {} }
    const image = await buildImage('debian-bookworm', { cacheDir, progress })

    expect(steps).toEqual(['bootstrap debian-bookworm (Debian bookworm, minbase)', 'image debian-bookworm'])
    expect(image).toMatchObject({ name: 'debian-bookworm', source: 'recipe' })
    expect(image.osRelease).toMatchObject({ ID: 'debian', VERSION_CODENAME: 'bookworm' })
    expect(await statInImage(image.path, '/usr/bin/su')).toMatchObject({
      type: 'regular',
      mode: 0o4755,
      uid: 0,
      gid: 0,
    })
    expect(await statInImage(image.path, '/etc/shadow')).toMatchObject({ mode: 0o640, uid: 0, gid: SHADOW_GID })
    expect(await statInImage(image.path, '/sbin/vitest-uml-init')).toMatchObject({ mode: 0o755, uid: 0, gid: 0 })
    // Hard links survive: perl5.36.0 is a hard link to perl in the Debian package.
    expect((await statInImage(image.path, '/usr/bin/perl'))?.links).toBe(2)

    expect(await readdir(join(cacheDir, 'images', 'debian-bookworm'))).toEqual([image.hash])
    expect((await readdir(image.dir)).sort()).toEqual(['image.ext4', 'image.json'])
    expect(await resolveImage('debian-bookworm', { cacheDir })).toEqual(image)
    const listed = (await listImages({ cacheDir })).find((entry) => entry.name === 'debian-bookworm')
    expect(listed).toMatchObject({ built: true, image })
    // Sparse: a 4 GiB image that uses a few hundred MiB.
    expect(listed!.sizeOnDisk).toBeGreaterThan(50 * 1024 * 1024)
    expect(listed!.sizeOnDisk).toBeLessThan(1024 * 1024 * 1024)

    const started = Date.now()
    expect(await ensureImage('debian-bookworm', { cacheDir })).toEqual(image)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it(
    'reports an unreachable mirror with mmdebstrap’s own words and leaves nothing behind',
    { timeout: 120_000 },
    async () => {
      const error = await buildImage('debian-bullseye', { cacheDir, mirror: 'http://127.0.0.1:9/debian' }).catch(
        (caught: unknown) => caught,
      )
      expect(isUmlError(error, 'UML_IMAGE_BUILD_FAILED')).toBe(true)
      expect((error as Error).message).toContain('VITEST_UML_DEBIAN_MIRROR')
      // apt's own reason, from the tail of mmdebstrap's stderr.
      expect((error as Error).message).toMatch(/Could not connect to 127\.0\.0\.1:9|Connection refused/)
      // Not even an empty directory for the image is left.
      expect(await exists(join(cacheDir, 'images', 'debian-bullseye'))).toBe(false)
    },
  )
})
