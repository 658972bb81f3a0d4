import { execFileSync } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { diskChanges } from 'vitest-pool-uml/disk'

const installer = join(import.meta.dirname, '..', 'installer')
const run = (command: string, ...args: string[]) => execFileSync(command, args, { encoding: 'utf8' }).trim()
/** Bookkeeping that installing and removing packages leaves behind on any Debian system. */
const BOOKKEEPING = [
  '/var/lib/dpkg',
  '/var/log',
  '/var/cache',
  '/etc/passwd-',
  '/etc/group-',
  '/etc/shadow-',
  '/etc/gshadow-',
  '/etc/subuid-',
  '/etc/subgid-',
]

describe.each([
  { name: 'the shell installer', install: [join(installer, 'install.sh')] },
  { name: 'the Node installer', install: ['node', join(installer, 'install.mjs')] },
])('$name', ({ install }) => {
  it('installs the tool as root, then uninstalls it leaving the system as it was', () => {
    const [command, ...args] = install
    execFileSync(command!, args, { stdio: 'inherit' })

    expect(run('getent', 'passwd', 'hello')).toMatch(/^hello:x:\d+:\d+::\/nonexistent:\/usr\/sbin\/nologin$/)
    expect(Number(run('id', '-u', 'hello'))).toBeLessThan(1000)
    expect(readFileSync('/etc/hello/hello.conf', 'utf8')).toContain('user = hello')
    expect(statSync('/etc/hello/hello.conf').mode & 0o7777).toBe(0o644)
    const binary = statSync('/usr/local/bin/hello')
    expect({ mode: binary.mode & 0o7777, uid: binary.uid, gid: binary.gid }).toEqual({ mode: 0o755, uid: 0, gid: 0 })
    expect(run('hello')).toBe('hello from vitest-uml')
    expect(readFileSync('/etc/systemd/system/hello.service', 'utf8')).toContain(
      'ExecStart=/usr/local/bin/hello --serve',
    )
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
    expect(run('dpkg-query', '-W', '-f', '${Status} ${Version}', 'hello-docs')).toBe('install ok installed 1.0')
    expect(diskChanges({ ignore: BOOKKEEPING }).added).toEqual([
      '/etc/hello',
      '/etc/hello/hello.conf',
      '/etc/systemd/system/hello.service',
      '/usr/local/bin/hello',
      '/usr/share/doc/hello-docs',
      '/usr/share/doc/hello-docs/README',
    ])

    execFileSync(join(installer, 'uninstall.sh'), { stdio: 'inherit' })
    const left = diskChanges({ ignore: BOOKKEEPING })
    expect(left.added).toEqual([])
    expect(left.removed).toEqual([])
    expect(() => run('getent', 'passwd', 'hello')).toThrow()
  })
})
