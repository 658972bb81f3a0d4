import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { debianMirror } from '../../../src/host/core/debian-mirror.js'
import { parseOptions } from '../../../src/host/core/invalid-options.js'

const schema = z.strictObject({ memory: z.number().min(64), shares: z.array(z.string().startsWith('/')).default([]) })
const message = { subject: 'Invalid options for boot()', fix: 'Fix them and retry.', details: { name: 'boot' } }

describe('parseOptions', () => {
  it('returns the parsed input with its defaults', () => {
    expect(parseOptions(schema, { memory: 512 }, message)).toEqual({ memory: 512, shares: [] })
  })

  it('names one problem inline, with the fix, and keeps the issues as details', () => {
    expect(() => parseOptions(schema, { memory: 16 }, message)).toThrow(
      expect.objectContaining({
        code: 'UML_INVALID_OPTIONS',
        message: 'Invalid options for boot(): memory: Too small: expected number to be >=64. Fix them and retry.',
        details: expect.objectContaining({ name: 'boot', issues: [expect.objectContaining({ path: ['memory'] })] }),
      }),
    )
  })

  it('lists several problems, naming fields by their path and a problem of the whole input by its message', () => {
    expect(() => parseOptions(schema, { memory: 'lots', shares: ['rel'], extra: 1 }, message)).toThrow(
      [
        'Invalid options for boot():',
        '  - memory: Invalid input: expected number, received string',
        '  - shares.0: Invalid string: must start with "/"',
        '  - Unrecognized key: "extra"',
        'Fix them and retry.',
      ].join('\n'),
    )
  })

  it('lets the caller name fields and reword issues', () => {
    const parse = () =>
      parseOptions(
        schema,
        { memory: 1, extra: 1 },
        {
          ...message,
          field: ([name]) => `--${String(name)}`,
          describe: (issue) => (issue.code === 'unrecognized_keys' ? ['unknown option "extra"'] : undefined),
        },
      )
    expect(parse).toThrow('  - --memory: Too small')
    expect(parse).toThrow('  - unknown option "extra"')
  })
})

describe('debianMirror', () => {
  it('takes the option, else VITEST_UML_DEBIAN_MIRROR, else Debian’s own, without a trailing slash', () => {
    expect(debianMirror('http://mirror.example/debian//', {})).toBe('http://mirror.example/debian')
    expect(debianMirror(undefined, { VITEST_UML_DEBIAN_MIRROR: 'http://env.example/debian/' })).toBe(
      'http://env.example/debian',
    )
    expect(debianMirror(undefined, {})).toBe('http://deb.debian.org/debian')
  })
})
