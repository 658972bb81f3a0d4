import { describe, expect, it } from 'vitest'
import { type RootfsIndex, resolveInRootfs } from '../../../src/host/images/rootfs-index.js'

const index: RootfsIndex = new Map([
  ['', { type: 'directory' }],
  ['bin', { type: 'symlink', linkname: 'usr/bin' }],
  ['sbin', { type: 'symlink', linkname: '/usr/sbin' }],
  ['usr/bin/sh', { type: 'symlink', linkname: 'dash' }],
  ['usr/bin/dash', { type: 'file' }],
  ['usr/bin/rbash', { type: 'link', linkname: './usr/bin/dash' }],
  ['etc/os-release', { type: 'symlink', linkname: '../usr/lib/os-release' }],
  ['escape', { type: 'symlink', linkname: '../../../../etc' }],
  ['loop', { type: 'symlink', linkname: 'loop/x' }],
])

describe('resolveInRootfs', () => {
  it('follows relative and absolute symlinks inside the root', () => {
    expect(resolveInRootfs(index, '/bin/sh')).toBe('usr/bin/dash')
    expect(resolveInRootfs(index, 'sbin')).toBe('usr/sbin')
    expect(resolveInRootfs(index, 'etc/os-release')).toBe('usr/lib/os-release')
  })

  it('resolves hard links to their target', () => {
    expect(resolveInRootfs(index, 'bin/rbash')).toBe('usr/bin/dash')
  })

  it('never climbs above the root', () => {
    expect(resolveInRootfs(index, 'escape/passwd')).toBe('etc/passwd')
  })

  it('gives up on symlink loops', () => {
    expect(resolveInRootfs(index, 'loop')).toBeUndefined()
  })
})
