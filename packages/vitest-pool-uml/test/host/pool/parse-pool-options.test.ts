import { totalmem } from 'node:os'
import { describe, expect, it } from 'vitest'
import { isUmlError } from '../../../src/host/core/index.js'
import { parsePoolOptions } from '../../../src/host/pool/parse-pool-options.js'

describe('parsePoolOptions', () => {
  it('fills defaults', () => {
    expect(parsePoolOptions({}, '/p/vitest.config.ts')).toEqual({
      kernel: '7.2',
      kernels: {},
      time: 'real',
      image: 'debian-trixie',
      images: {},
      memory: Math.min(1024, Math.floor(totalmem() / 1024 / 1024)),
      disk: 4096,
      freshKernel: false,
      bootTimeout: 60_000,
      user: 'root',
      shares: [],
      network: false,
      env: {},
    })
  })

  it('takes freshKernel as a boolean only', () => {
    expect(parsePoolOptions({ freshKernel: true }, undefined).freshKernel).toBe(true)
    expect(() => parsePoolOptions({ freshKernel: 'yes' } as never, undefined)).toThrow(
      /freshKernel: Invalid input: expected boolean, received string/,
    )
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
      Known options: kernel, kernels, time, clock, image, images, memory, disk, freshKernel, warmGuests, bootTimeout, fileTimeout, user, shares, network, env, matrix."
    `)
  })

  it('refuses more guest memory than the host has, before any guest boots', () => {
    const hostMiB = Math.floor(totalmem() / 1024 / 1024)
    expect(() => parsePoolOptions({ memory: hostMiB + 1 }, '/p/vitest.config.ts')).toThrow(
      `memory: more than this host has (${hostMiB} MiB); use less`,
    )
    expect(parsePoolOptions({ memory: hostMiB }, undefined).memory).toBe(hostMiB)
  })

  it('takes kernel recipes, virtual time and a clock, and rejects bad ones with the fix', () => {
    const options = parsePoolOptions(
      {
        kernel: 'tt',
        kernels: { tt: { source: '7.2', config: ['CONFIG_LOCALVERSION="-tt"'] } },
        time: 'virtual',
        clock: '2038-01-19T03:14:08Z',
      },
      undefined,
    )
    expect(options.kernels).toEqual({ tt: { source: '7.2', config: ['CONFIG_LOCALVERSION="-tt"'], modules: false } })
    expect([options.time, options.clock]).toEqual(['virtual', '2038-01-19T03:14:08Z'])
    let caught: unknown
    try {
      parsePoolOptions(
        {
          kernels: { '7.2': {}, 'custom-x': {}, Big: {}, ok: { source: { url: 'ftp://x/linux.tar', sha256: 'abc' } } },
          time: 'fast' as never,
          clock: 'tomorrow',
        },
        '/p/vitest.config.ts',
      )
    } catch (error) {
      caught = error
    }
    expect(isUmlError(caught, 'UML_INVALID_OPTIONS')).toBe(true)
    expect((caught as Error).message).toMatchInlineSnapshot(`
      "Invalid vitest-pool-uml options in /p/vitest.config.ts:
        - kernels.7.2: a name of your own: not a pinned kernel (5.10, 6.1, 6.12, 7.2) and not starting with custom-
        - kernels.custom-x: a name of your own: not a pinned kernel (5.10, 6.1, 6.12, 7.2) and not starting with custom-
        - kernels.Big: lower-case letters, digits, dots, dashes
        - kernels.ok.source.url: Invalid URL
        - kernels.ok.source.sha256: the SHA-256 as 64 lowercase hex digits
        - time: Invalid option: expected one of "real"|"virtual"
        - clock: an ISO date such as "2038-01-19T03:14:08Z"
      Known options: kernel, kernels, time, clock, image, images, memory, disk, freshKernel, warmGuests, bootTimeout, fileTimeout, user, shares, network, env, matrix."
    `)
  })
})
