import { describe, expect, it } from 'vitest'
import { buildSandboxArgs } from '../../../src/host/core/sandbox-args.js'

describe('buildSandboxArgs', () => {
  it('unshares everything, drops every capability, clears the environment and dies with its parent', () => {
    const args = buildSandboxArgs({ mounts: [] })
    for (const flag of ['--unshare-all', '--cap-drop', '--clearenv', '--die-with-parent', '--new-session']) {
      expect(args).toContain(flag)
    }
    expect(args[args.indexOf('--cap-drop') + 1]).toBe('ALL')
    // Nothing that would give back the network or the host's file system.
    expect(args).not.toContain('--share-net')
    expect(args.filter((arg) => arg === '/')).toEqual([])
  })

  it('binds mounts read-only unless writable, and always gives a private /tmp', () => {
    const args = buildSandboxArgs({
      mounts: [
        { source: '/cache/kernel', target: '/run/vitest-uml/kernel' },
        { source: '/home/me/out', target: '/shares/1', writable: true },
      ],
    })
    expect(args.join(' ')).toContain('--ro-bind /cache/kernel /run/vitest-uml/kernel')
    expect(args.join(' ')).toContain('--bind /home/me/out /shares/1')
    expect(args.join(' ')).toContain('--tmpfs /tmp')
  })

  it('caps scratch tmpfs mounts in size, /tmp included when given', () => {
    const args = buildSandboxArgs({
      mounts: [],
      scratch: [
        { target: '/tmp', sizeBytes: 1024 },
        { target: '/disk', sizeBytes: 2048 },
      ],
    })
    expect(args.join(' ')).toContain('--size 1024 --tmpfs /tmp --size 2048 --tmpfs /disk')
    expect(args.join(' ').match(/--tmpfs \/tmp/g)).toHaveLength(1)
  })
})
