import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_KERNEL,
  getKernelPin,
  KERNEL_NAMES,
  MANIFEST,
  type Manifest,
  parseManifest,
} from '../../../src/host/kernels/index.js'

const manifestJson: Manifest = JSON.parse(
  readFileSync(new URL('../../../../../kernels/manifest.json', import.meta.url), 'utf8'),
)

describe('kernels/manifest.json', () => {
  it('validates and pins the four Debian kernels, defaulting to 7.2', () => {
    expect(parseManifest(manifestJson)).toEqual(MANIFEST)
    expect(KERNEL_NAMES).toEqual(['5.10', '6.1', '6.12', '7.2'])
    expect(DEFAULT_KERNEL).toBe('7.2')
    expect(getKernelPin('6.1').suite).toBe('bookworm')
  })

  it('gives pinned C libraries exactly to the kernels that need a newer glibc than Debian 12 has', () => {
    const pinned = KERNEL_NAMES.filter((name) => getKernelPin(name).libs !== undefined)
    expect(pinned).toEqual(['6.12', '7.2'])
    expect(MANIFEST.libs.trixie?.map((deb) => deb.package)).toEqual(['libc6', 'libgcc-s1'])
  })

  it.each<[string, (manifest: Manifest) => void, string]>([
    [
      'a default that is not pinned',
      (m) => {
        m.default = '9.9'
      },
      '"9.9" is not a pinned kernel',
    ],
    [
      'a missing lib set',
      (m) => {
        m.kernels['7.2']!.libs = 'forky'
      },
      'no lib set named "forky"',
    ],
    [
      'a malformed hash',
      (m) => {
        m.kernels['6.1']!.deb.sha256 = 'ABC'
      },
      '64 lowercase hex digits',
    ],
    [
      'a non-pool filename',
      (m) => {
        m.libs.trixie![0]!.filename = '../libc6.deb'
      },
      'pool path',
    ],
  ])('rejects %s', (_, breakIt, message) => {
    const broken = structuredClone(manifestJson)
    breakIt(broken)
    expect(() => parseManifest(broken, 'broken.json')).toThrow(
      expect.objectContaining({
        code: 'UML_INVALID_OPTIONS',
        message: expect.stringMatching(new RegExp(`^The kernel manifest broken\\.json is invalid:.*${message}`, 's')),
      }),
    )
  })
})
