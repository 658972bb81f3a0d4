import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isUmlError } from '../../../src/host/core/index.js'
import {
  findLostOptions,
  formatConfig,
  GUEST_CONFIG,
  MANIFEST,
  mergeConfigFragments,
  parseConfigFragment,
  resolveRecipe,
} from '../../../src/host/kernels/index.js'

const SHA = 'a'.repeat(64)

describe('config fragments', () => {
  it('reads options, unset options, comments and blank lines; a later line wins', () => {
    const fragment = parseConfigFragment(
      [
        '# my options',
        'CONFIG_BPF_SYSCALL=y',
        '',
        '# CONFIG_IPV6 is not set',
        'CONFIG_LOCALVERSION="-mine"',
        'CONFIG_LOG_BUF_SHIFT=15',
        'CONFIG_BPF_SYSCALL=n',
      ].join('\n'),
      'test',
    )
    expect([...fragment]).toEqual([
      ['BPF_SYSCALL', 'n'],
      ['IPV6', 'n'],
      ['LOCALVERSION', '"-mine"'],
      ['LOG_BUF_SHIFT', '15'],
    ])
    expect(formatConfig(fragment)).toBe(
      '# CONFIG_BPF_SYSCALL is not set\n# CONFIG_IPV6 is not set\nCONFIG_LOCALVERSION="-mine"\nCONFIG_LOG_BUF_SHIFT=15\n',
    )
  })

  it.each([
    ['a line without CONFIG_', 'BPF_SYSCALL=y', 1],
    ['a value that is no Kconfig value', 'CONFIG_LOCALVERSION=-mine', 1],
    ['a lower-case y is fine, an unclosed string is not', 'CONFIG_A=y\nCONFIG_B="open', 2],
  ])('names the line of %s', (_, text, line) => {
    let caught: unknown
    try {
      parseConfigFragment(text, '/p/kernel.config')
    } catch (error) {
      caught = error
    }
    expect(isUmlError(caught, 'UML_INVALID_OPTIONS')).toBe(true)
    expect((caught as Error).message).toContain(`Line ${line} of the kernel config fragment /p/kernel.config`)
  })

  it('merges the default guest config with a fragment, the fragment winning', () => {
    const defaults = parseConfigFragment(GUEST_CONFIG.map((o) => `CONFIG_${o.name}=${o.value}`).join('\n'), 'defaults')
    const merged = mergeConfigFragments(defaults, new Map([['MODULES', 'y']]), new Map([['IPV6', 'n']]))
    expect(merged.get('MODULES')).toBe('y')
    expect(merged.get('IPV6')).toBe('n')
    expect(merged.get('HOSTFS')).toBe('y')
    expect([...merged.keys()].indexOf('MODULES')).toBe(0)
  })
})

describe('the check after olddefconfig', () => {
  const complete = () =>
    new Map(GUEST_CONFIG.filter((option) => option.required).map((option) => [option.name, option.value]))

  it('passes a config that has every required option and the fragment as asked', () => {
    const final = complete().set('BPF_SYSCALL', 'y')
    expect(findLostOptions(final, new Map([['BPF_SYSCALL', 'y']]))).toEqual([])
  })

  it('names the fragment options Kconfig dropped, an absent option counting as n', () => {
    const final = complete()
    const lost = findLostOptions(
      final,
      new Map([
        ['BPF_SYSCALL', 'y'],
        ['NO_SUCH_OPTION', 'y'],
        ['IPV6', 'n'],
      ]),
    )
    expect(lost).toEqual([
      { name: 'BPF_SYSCALL', wanted: 'y', got: 'n' },
      { name: 'NO_SUCH_OPTION', wanted: 'y', got: 'n' },
    ])
  })

  it('names required options that are gone, with why, also when the fragment turned them off', () => {
    const final = complete()
    final.delete('HOSTFS')
    final.set('UML_TIME_TRAVEL_SUPPORT', 'n')
    const lost = findLostOptions(final, new Map([['HOSTFS', 'n']]))
    expect(lost.map((option) => [option.name, option.wanted, option.got])).toEqual([
      ['HOSTFS', 'y', 'n'],
      ['UML_TIME_TRAVEL_SUPPORT', 'y', 'n'],
    ])
    expect(lost[0]?.why).toContain('hostfs')
  })

  it('requires what the runtime, overlayfs, the vector network and time travel need', () => {
    const required = GUEST_CONFIG.filter((option) => option.required).map((option) => option.name)
    expect(required).toEqual(
      expect.arrayContaining([
        'HOSTFS',
        'BLK_DEV_UBD',
        'EXT4_FS',
        'SSL',
        'OVERLAY_FS',
        'UML_NET_VECTOR',
        'UML_TIME_TRAVEL_SUPPORT',
      ]),
    )
    expect(GUEST_CONFIG.find((option) => option.name === 'MODULES')?.value).toBe('n')
  })
})

describe('recipes and their cache key', () => {
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vitest-uml-recipes-'))
    await writeFile(join(dir, 'tt.config'), 'CONFIG_LOCALVERSION="-tt"\n')
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('builds the default pinned source with the default config when the recipe names nothing', async () => {
    const plan = await resolveRecipe('k', {}, dir)
    expect(plan.source).toMatchObject({ kind: 'debian', version: MANIFEST.defaultSource })
    expect(plan.fragment.size).toBe(0)
    expect(plan.config.get('UML_TIME_TRAVEL_SUPPORT')).toBe('y')
    expect(plan.hash).toMatch(/^[0-9a-f]{16}$/)
  })

  it('reads a fragment file relative to the base dir, the same as its lines given inline', async () => {
    const fromFile = await resolveRecipe('k', { config: 'tt.config' }, dir)
    const inline = await resolveRecipe('k', { config: ['CONFIG_LOCALVERSION="-tt"'] }, dir)
    expect(fromFile.hash).toBe(inline.hash)
    expect(fromFile.fragment.get('LOCALVERSION')).toBe('"-tt"')
  })

  it('keys the cache by source and config only: the name and where a tarball lies do not count', async () => {
    const base = await resolveRecipe('one', {}, dir)
    const renamed = await resolveRecipe('two', {}, dir)
    const withOption = await resolveRecipe('one', { config: ['CONFIG_BPF_SYSCALL=y'] }, dir)
    const withModules = await resolveRecipe('one', { modules: true }, dir)
    const byUrl = await resolveRecipe('one', { source: { url: 'https://example.org/linux.tar.xz', sha256: SHA } }, dir)
    const byPath = await resolveRecipe('one', { source: { path: 'linux.tar.xz', sha256: SHA } }, dir)
    expect(renamed.hash).toBe(base.hash)
    expect(new Set([base.hash, withOption.hash, withModules.hash, byUrl.hash]).size).toBe(4)
    expect(byPath.hash).toBe(byUrl.hash)
    expect(byPath.source).toEqual({ kind: 'tarball', path: join(dir, 'linux.tar.xz'), sha256: SHA })
    expect(withModules.config.get('MODULES')).toBe('y')
  })

  it.each([
    ['an unpinned source version', { source: '4.19' }, 'There is no pinned kernel source "4.19"'],
    ['a tarball without its hash', { source: { path: 'linux.tar.xz' } }, 'Invalid recipe for kernel k'],
    ['a fragment file that is not there', { config: 'missing.config' }, 'Cannot read the kernel config fragment'],
    ['an unknown key', { sources: '7.2' }, 'Invalid recipe for kernel k'],
  ])('rejects %s', async (_, recipe, message) => {
    await expect(resolveRecipe('k', recipe as never, dir)).rejects.toMatchObject({
      code: 'UML_INVALID_OPTIONS',
      message: expect.stringContaining(message),
    })
  })

  it('reports a malformed recipe in the one format of bad options, each problem by its field', async () => {
    await expect(resolveRecipe('k', { source: '7.2', modules: 'yes', colour: 1 } as never, dir)).rejects.toMatchObject({
      code: 'UML_INVALID_OPTIONS',
      message:
        'Invalid recipe for kernel k:\n' +
        '  - modules: Invalid input: expected boolean, received string\n' +
        '  - Unrecognized key: "colour"\n' +
        'A kernel recipe has source (a pinned version such as "7.2", or a source tarball as { url, sha256 } or ' +
        '{ path, sha256 }), config (a fragment file or its lines) and modules (true or false).',
      details: {
        name: 'k',
        issues: [
          expect.objectContaining({ path: ['modules'] }),
          expect.objectContaining({ code: 'unrecognized_keys' }),
        ],
      },
    })
  })
})
