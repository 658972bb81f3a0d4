import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { diskChanges } from 'vitest-pool-uml/disk'

const installer = join(import.meta.dirname, '..', 'installer')
const run = (command: string, ...args: string[]) => execFileSync(command, args, { encoding: 'utf8' }).trim()
/** What apt and dpkg keep about themselves. */
const BOOKKEEPING = ['/var/lib/dpkg', '/var/lib/apt', '/var/log', '/var/cache']

describe('installers that download', () => {
  it('fetches its payload from the release server', () => {
    execFileSync('node', [join(installer, 'install-download.mjs')], { stdio: 'inherit' })
    expect(run('hello-download')).toBe('hello, downloaded from the release server')
    expect(diskChanges({ ignore: BOOKKEEPING }).added).toEqual(['/usr/local/bin/hello-download'])
  })

  it('installs its Debian dependency from the mirror, then fetches its payload with it', () => {
    execFileSync(join(installer, 'install-with-busybox.sh'), { stdio: 'inherit' })
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
    expect(run('dpkg-query', '-W', '-f', '${Status}', 'busybox')).toBe('install ok installed')
    expect(run('hello-download')).toBe('hello, downloaded from the release server')
    expect(diskChanges({ ignore: BOOKKEEPING }).added).toContain('/usr/bin/busybox')
  })
})
