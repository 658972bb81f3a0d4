import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import type { ShareMount } from '@vitest-uml/protocol'

/**
 * Mounts host directories over hostfs. Newer kernels take `hostfs=<dir>`, older ones (5.10, 6.1)
 * the bare directory as mount data; the sandbox on the host decides what is really writable.
 */
export function mountShares(shares: ShareMount[]): void {
  for (const share of shares) {
    mkdirSync(share.target, { recursive: true })
    const mode = share.writable ? 'rw' : 'ro'
    const attempts = [`${mode},hostfs=${share.source}`, `${mode},${share.source}`]
    const failures: string[] = []
    const mounted = attempts.some((options) => {
      const result = spawnSync('mount', ['-t', 'hostfs', '-o', options, 'none', share.target], { encoding: 'utf8' })
      if (result.status !== 0) failures.push(`${options}: ${result.stderr.trim() || result.error?.message}`)
      return result.status === 0
    })
    if (!mounted) throw new Error(`Cannot mount ${share.source} at ${share.target}: ${failures.join('; ')}`)
  }
}
