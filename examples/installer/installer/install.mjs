#!/usr/bin/env node
// The same installer as install.sh, written in Node.
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const run = (command, ...args) => execFileSync(command, args, { stdio: ['ignore', 'ignore', 'inherit'] })

run('useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', 'hello')
mkdirSync('/etc/hello', { recursive: true, mode: 0o755 })
writeFileSync('/etc/hello/hello.conf', 'greeting = hello\nuser = hello\n', { mode: 0o644 })
copyFileSync(join(here, 'hello'), '/usr/local/bin/hello')
chmodSync('/usr/local/bin/hello', 0o755)
writeFileSync(
  '/etc/systemd/system/hello.service',
  '[Unit]\nDescription=hello, a made-up daemon\n\n[Service]\nUser=hello\nExecStart=/usr/local/bin/hello --serve\n\n[Install]\nWantedBy=multi-user.target\n',
)

const build = mkdtempSync(join(tmpdir(), 'hello-docs-'))
mkdirSync(join(build, 'DEBIAN'))
mkdirSync(join(build, 'usr/share/doc/hello-docs'), { recursive: true })
writeFileSync(
  join(build, 'DEBIAN/control'),
  'Package: hello-docs\nVersion: 1.0\nArchitecture: all\nMaintainer: nobody <nobody@example.invalid>\nDescription: hello documentation\n',
)
writeFileSync(join(build, 'usr/share/doc/hello-docs/README'), 'hello greets.\n')
run('dpkg-deb', '--root-owner-group', '--build', build, '/tmp/hello-docs.deb')
run('dpkg', '-i', '/tmp/hello-docs.deb')
rmSync(build, { recursive: true, force: true })
rmSync('/tmp/hello-docs.deb', { force: true })
