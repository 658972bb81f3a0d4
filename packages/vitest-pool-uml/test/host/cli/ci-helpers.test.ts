import { describe, expect, it } from 'vitest'
import { type CacheKeyInputs, computeCacheKey } from '../../../src/host/cli/cache-key.js'
import { userNamespaceProblem } from '../../../src/host/cli/user-namespaces.js'

describe('userNamespaceProblem', () => {
  it("recognises Ubuntu 24.04's AppArmor restriction and gives the sysctl that lifts it", () => {
    const problem = userNamespaceProblem({ apparmorRestrict: '1', maxUserNamespaces: '15000' }, false)
    expect(problem?.detail).toContain('kernel.apparmor_restrict_unprivileged_userns=1')
    expect(problem?.fix).toContain('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0')
    expect(problem?.fix).toContain('/etc/sysctl.d/')
  })

  it('recognises the older switches, and needs none of them as root', () => {
    expect(userNamespaceProblem({ unprivilegedClone: '0' }, false)?.fix).toContain('kernel.unprivileged_userns_clone=1')
    expect(userNamespaceProblem({ maxUserNamespaces: '0' }, false)?.fix).toContain('user.max_user_namespaces=15000')
    expect(userNamespaceProblem({ apparmorRestrict: '1' }, true)).toBeUndefined()
    expect(userNamespaceProblem({ apparmorRestrict: '0', unprivilegedClone: '1' }, false)).toBeUndefined()
    expect(userNamespaceProblem({}, false)).toBeUndefined()
  })
})

describe('computeCacheKey', () => {
  const inputs: CacheKeyInputs = {
    kernels: { '7.2': { sha256: 'a' } },
    recipes: { 'debian-trixie': { suite: 'trixie' } },
    imageBuilder: { version: 1 },
    kernelBuilder: { version: 1 },
    lockFile: '',
    files: { 'a.ts': '1', 'b.ts': '2' },
    host: 'debian-12-x64',
  }

  it('names the host and changes with every input', () => {
    const key = computeCacheKey(inputs)
    expect(key).toMatch(/^vitest-uml-debian-12-x64-[0-9a-f]{16}$/)
    const changed = [
      { kernels: { '7.2': { sha256: 'b' } } },
      { recipes: { 'debian-trixie': { suite: 'sid' } } },
      { imageBuilder: { version: 2 } },
      { kernelBuilder: { version: 2 } },
      { lockFile: '{"images":{}}' },
      { files: { 'a.ts': '1', 'b.ts': '3' } },
      { host: 'ubuntu-24.04-x64' },
    ]
    for (const change of changed) expect(computeCacheKey({ ...inputs, ...change })).not.toBe(key)
  })

  it('does not depend on the order files are named in', () => {
    expect(computeCacheKey({ ...inputs, files: { 'b.ts': '2', 'a.ts': '1' } })).toBe(computeCacheKey(inputs))
  })
})
