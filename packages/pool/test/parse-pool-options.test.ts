import { totalmem } from 'node:os'
import { isUmlError } from '@vitest-uml/core'
import { describe, expect, it } from 'vitest'
import { parsePoolOptions } from '../src/parse-pool-options.js'

describe('parsePoolOptions', () => {
  it('fills defaults', () => {
    expect(parsePoolOptions({}, '/p/vitest.config.ts')).toEqual({
      kernel: '7.2',
      image: 'debian-trixie',
      images: {},
      memory: 512,
      disk: 4096,
      bootTimeout: 60_000,
      fileTimeout: 600_000,
      user: 'root',
      shares: [],
      env: {},
    })
  })

  it('names the config file, each problem and a likely fix', () => {
    let caught: unknown
    try {
      parsePoolOptions({ kernal: '6.1', memory: 16, shares: [{ path: 'relative' }] } as never, '/p/vitest.config.ts')
    } catch (error) {
      caught = error
    }
    expect(isUmlError(caught, 'UML_INVALID_OPTIONS')).toBe(true)
    expect((caught as Error).message).toMatchInlineSnapshot(`
      "Invalid vitest-pool-uml options in /p/vitest.config.ts:
        - memory: Too small: expected number to be >=128
        - shares.0.path: must be an absolute path
        - unknown option "kernal" (did you mean "kernel"?)
      Known options: kernel, image, images, memory, disk, warmGuests, bootTimeout, fileTimeout, user, shares, env, matrix."
    `)
  })

  it('refuses more guest memory than the host has, before any guest boots', () => {
    const hostMiB = Math.floor(totalmem() / 1024 / 1024)
    expect(() => parsePoolOptions({ memory: hostMiB + 1 }, '/p/vitest.config.ts')).toThrow(
      `memory: more than this host has (${hostMiB} MiB); use less`,
    )
    expect(parsePoolOptions({ memory: hostMiB }, undefined).memory).toBe(hostMiB)
  })
})
