import { describe, expect, it } from 'vitest'
import { isAllowed, networkSchema, resolveNetworkPolicy } from '../../../src/host/guest/network/network-options.js'

const policy = (option: unknown) => resolveNetworkPolicy(networkSchema.parse(option))

describe('the network option', () => {
  it('is off, whole, or an allow-list with forwarded ports', () => {
    expect(policy(false)).toBeUndefined()
    expect(policy(true)).toEqual({ outbound: true, allow: [], forward: new Map() })
    expect(policy({ allow: ['*'] })?.outbound).toBe(true)
    const listed = policy({
      allow: ['Deb.Debian.org', 'registry.npmjs.org:443'],
      forward: [3000, { guest: 80, host: 8080 }],
    })
    expect(listed).toEqual({
      outbound: false,
      allow: [{ host: 'deb.debian.org' }, { host: 'registry.npmjs.org', port: 443 }],
      forward: new Map([
        [3000, 3000],
        [80, 8080],
      ]),
    })
  })

  it('rejects what it cannot mean', () => {
    for (const bad of [
      'yes',
      { allow: ['http://deb.debian.org'] },
      { allow: ['a b'] },
      { forward: [0] },
      { forward: [{ guest: 80 }] },
      { deny: [] },
    ]) {
      expect(networkSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false)
    }
  })

  it('matches hosts by name, port and domain', () => {
    const rules = policy({ allow: ['deb.debian.org', 'registry.npmjs.org:443', '*.example.org'] })?.allow ?? []
    expect(isAllowed(rules, 'deb.debian.org', 80)).toBe(true)
    expect(isAllowed(rules, 'DEB.debian.org.', 443)).toBe(true)
    expect(isAllowed(rules, 'registry.npmjs.org', 443)).toBe(true)
    expect(isAllowed(rules, 'registry.npmjs.org', 80)).toBe(false)
    expect(isAllowed(rules, 'a.b.example.org', 80)).toBe(true)
    expect(isAllowed(rules, 'example.org', 80)).toBe(false)
    expect(isAllowed(rules, 'evil-example.org', 80)).toBe(false)
    expect(isAllowed(rules, 'debian.org', 80)).toBe(false)
  })
})
