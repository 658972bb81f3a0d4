import { execFileSync } from 'node:child_process'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const run = (command: string, ...args: string[]) => execFileSync(command, args, { encoding: 'utf8' }).trim()

describe('what only root can do, safely inside the guest', () => {
  it('adds a system user', () => {
    run('useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'example-daemon')
    expect(run('getent', 'passwd', 'example-daemon')).toMatch(
      /^example-daemon:x:\d+:\d+::\/home\/example-daemon:\/usr\/sbin\/nologin$/,
    )
  })

  it('writes configuration under /etc', () => {
    writeFileSync('/etc/example.conf', 'listen = 8080\n')
    expect(statSync('/etc/example.conf').uid).toBe(0)
    expect(readFileSync('/etc/example.conf', 'utf8')).toBe('listen = 8080\n')
  })

  it('installs an executable under /usr/local/bin and runs it from PATH', () => {
    writeFileSync('/usr/local/bin/example-hello', '#!/bin/sh\necho "hello from $(uname -n)"\n')
    chmodSync('/usr/local/bin/example-hello', 0o755)
    expect(statSync('/usr/local/bin/example-hello').mode & 0o7777).toBe(0o755)
    expect(run('example-hello')).toBe('hello from vitest-uml')
  })
})
