import { describe, expect, it } from 'vitest'
import { parseRunArgs } from '../../../src/host/cli/commands/run.js'
import { networkOption } from '../../../src/host/cli/guest-flags.js'
import { networkSchema } from '../../../src/host/guest/index.js'
import { usageError } from './usage-error.js'

/** The network option that `vitest-uml run <flags> -- true` boots its guest with. */
function network(...flags: string[]) {
  return networkOption(parseRunArgs([...flags, '--', 'true']))
}

/** The usage error of `vitest-uml run <flags> -- true`. */
function problem(...flags: string[]): string {
  return usageError(() => parseRunArgs([...flags, '--', 'true']))
}

describe('--network, --allow and --forward', () => {
  it('give no network without any of them, and the whole network with --network', () => {
    expect(network()).toBe(false)
    expect(network('--network')).toBe(true)
  })

  it('make --allow an allow-list, repeatable, with ports', () => {
    expect(network('--allow', 'deb.debian.org', '--allow=registry.npmjs.org:443')).toEqual({
      allow: ['deb.debian.org', 'registry.npmjs.org:443'],
    })
  })

  it('forward GUEST:HOST or one port as itself, alone or with the whole network', () => {
    const forward = [
      { guest: 8080, host: 3000 },
      { guest: 9000, host: 9000 },
    ]
    expect(network('--forward', '8080:3000', '--forward', '9000')).toEqual({ allow: [], forward })
    expect(network('--network', '--forward', '8080:3000', '--forward', '9000')).toEqual({ allow: ['*'], forward })
    expect(network('--allow', 'deb.debian.org', '--forward', '9000')).toEqual({
      allow: ['deb.debian.org'],
      forward: [{ guest: 9000, host: 9000 }],
    })
  })

  it('give what the pool option takes, unchanged by its schema', () => {
    for (const flags of [['--network'], ['--network', '--forward', '80:8080'], ['--allow', '*.example.org']]) {
      const option = network(...flags)
      expect(networkSchema.parse(option)).toEqual(option)
    }
  })

  it('name the flag, as typed, and the form it takes when the value is bad', () => {
    expect(problem('--forward', 'web')).toBe(
      'Invalid arguments for `run`: --forward: takes PORT or GUESTPORT:HOSTPORT, for example 8080:3000. See `vitest-uml --help`.',
    )
    expect(problem('--forward', '8080:70000')).toBe(
      'Invalid arguments for `run`: --forward: ports are 1 to 65535. See `vitest-uml --help`.',
    )
    expect(problem('--allow', 'http://deb.debian.org')).toBe(
      "Invalid arguments for `run`: --allow: must be a host name or address, 'host:port', '*.domain' or '*'. See `vitest-uml --help`.",
    )
    expect(problem('--network=yes')).toContain("Option '--network' does not take an argument")
  })
})
