import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAuthChallenges } from '../../../src/host/images/oci/auth-challenge.js'
import { formatImageRef, imageRefLabel, isImageRef, parseImageRef } from '../../../src/host/images/oci/image-ref.js'
import { readLockFile, writeLockEntry } from '../../../src/host/images/oci/lock-file.js'

const DIGEST = `sha256:${'ab'.repeat(32)}`

describe('parseImageRef', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.21', 'docker.io/library/alpine:3.21'],
    ['docker.io/library/alpine:3.21', 'docker.io/library/alpine:3.21'],
    ['index.docker.io/owner/img', 'docker.io/owner/img:latest'],
    ['owner/img:1.0', 'docker.io/owner/img:1.0'],
    [`ghcr.io/owner/img@${DIGEST}`, `ghcr.io/owner/img@${DIGEST}`],
    [`ghcr.io/owner/img:v2@${DIGEST}`, `ghcr.io/owner/img:v2@${DIGEST}`],
    ['localhost:5000/name:tag', 'localhost:5000/name:tag'],
    ['localhost/a/b/c', 'localhost/a/b/c:latest'],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest'],
  ])('%s is %s', (input, canonical) => {
    expect(formatImageRef(parseImageRef(input))).toBe(canonical)
  })

  it.each([
    ['Alpine:3', 'repository names'],
    ['alpine:3 .21', 'tag'],
    ['alpine@sha256:abc', 'digest'],
    ['ghcr.io/', 'repository names'],
    ['docker.io/library/alpine:', 'tag'],
  ])('rejects %s', (input, why) => {
    expect(() => parseImageRef(input)).toThrow(
      expect.objectContaining({ code: 'UML_INVALID_OPTIONS', message: expect.stringContaining(why) }),
    )
  })

  it('tells refs from image names', () => {
    expect(isImageRef('debian-trixie')).toBe(false)
    expect(isImageRef('alpine:3.21')).toBe(true)
    expect(isImageRef('localhost:5000/x')).toBe(true)
  })

  it('gives short labels for matrix cells', () => {
    expect(imageRefLabel(parseImageRef('docker.io/library/alpine:3.21'))).toBe('alpine-3.21')
    expect(imageRefLabel(parseImageRef(`ghcr.io/owner/img@${DIGEST}`))).toBe('img-abababababab')
  })
})

describe('parseAuthChallenges', () => {
  it('reads a bearer challenge with quoted parameters', () => {
    expect(
      parseAuthChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/alpine:pull',
        },
      },
    ])
  })

  it('reads several challenges, escapes, unquoted values and token68', () => {
    expect(
      parseAuthChallenges('Basic realm="Registry \\"R\\"", Bearer realm=https://t/x , service=reg, Negotiate abc=='),
    ).toEqual([
      { scheme: 'basic', params: { realm: 'Registry "R"' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', service: 'reg' } },
      { scheme: 'negotiate', params: { token68: 'abc==' } },
    ])
  })

  it('ignores what it cannot read', () => {
    expect(parseAuthChallenges('')).toEqual([])
    expect(parseAuthChallenges('Bearer realm="unterminated')).toEqual([
      { scheme: 'bearer', params: { realm: 'unterminated' } },
    ])
  })
})

describe('lock file', () => {
  it('records pins sorted, keeps others, and reads them back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-lock-'))
    try {
      const path = join(dir, 'vitest-uml.lock.json')
      expect(await readLockFile(path)).toEqual({ lockfileVersion: 1, images: {} })
      const entry = { digest: DIGEST, platform: 'linux/amd64', manifest: DIGEST }
      await Promise.all([writeLockEntry(path, 'z.io/b:1', entry), writeLockEntry(path, 'a.io/a:1', entry)])
      expect(Object.keys((await readLockFile(path)).images)).toEqual(['a.io/a:1', 'z.io/b:1'])
      expect(await readFile(path, 'utf8')).toMatch(/^\{\n {2}"lockfileVersion": 1,\n/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('rejects a damaged lock file with the fix', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-lock-'))
    try {
      const path = join(dir, 'vitest-uml.lock.json')
      await writeFile(path, '{"lockfileVersion":1,"images":{"x":{"digest":"sha256:1"}}}')
      await expect(readLockFile(path)).rejects.toMatchObject({
        code: 'UML_INVALID_OPTIONS',
        message: expect.stringContaining('images.x.digest: a sha256 digest'),
      })
      await writeFile(path, '{')
      await expect(readLockFile(path)).rejects.toMatchObject({ message: expect.stringContaining('is not JSON') })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
