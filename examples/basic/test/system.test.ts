import { readFileSync } from 'node:fs'
import { release } from 'node:os'
import { describe, expect, it } from 'vitest'

describe('the guest this file runs in', () => {
  it('runs the kernel chosen in vitest.config.ts', () => {
    expect(release()).toMatch(/^7\.2\./)
  })

  it('runs the Debian release chosen in vitest.config.ts', () => {
    expect(readFileSync('/etc/os-release', 'utf8')).toContain('VERSION_CODENAME=trixie')
  })

  it('runs the tests as root', () => {
    expect(process.getuid?.()).toBe(0)
  })
})
