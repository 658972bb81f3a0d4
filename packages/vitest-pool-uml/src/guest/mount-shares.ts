import { spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ShareMount } from '../shared/index.js'

/**
 * Where copy-on-write shares keep what the guest wrote over them: on the guest's own disk (so it
 * counts against the disk limit, not guest memory, and goes with the guest), in a directory that
 * is bind-mounted on itself so that diskChanges() leaves it out like any other mount.
 */
const COW_DIR = '/var/lib/vitest-uml/cow'
/** Where the read-only hostfs mounts under copy-on-write shares go. */
const LOWER_DIR = '/run/vitest-uml-lower'

/**
 * Mounts host directories over hostfs. Newer kernels take `hostfs=<dir>`, older ones (5.10, 6.1)
 * the bare directory as mount data; the sandbox on the host decides what is really writable.
 * A copy-on-write share is the read-only host directory under an overlay whose upper layer is in
 * the guest: the guest writes where it likes, the host's files never change.
 */
export function mountShares(shares: ShareMount[]): void {
  if (shares.some((share) => share.copyOnWrite)) {
    if (!/\toverlay\n/.test(readFileSync('/proc/filesystems', 'utf8'))) {
      throw new Error(
        'overlayfs, which makes the project writable in the guest, is missing: init loads its module with insmod ' +
          '(kmod, busybox) or perl, and this image has neither. Add kmod to the image or use a kernel with overlayfs built in.',
      )
    }
    mkdirSync(COW_DIR, { recursive: true })
    run('mount', ['-o', 'bind', COW_DIR, COW_DIR])
  }
  shares.forEach((share, index) => {
    if (!share.copyOnWrite) {
      mountHostfs(share.source, share.target, share.writable)
      return
    }
    const lower = `${LOWER_DIR}/${index}`
    const upper = `${COW_DIR}/${index}/upper`
    const work = `${COW_DIR}/${index}/work`
    mountHostfs(share.source, lower, false)
    for (const dir of [upper, work, share.target]) mkdirSync(dir, { recursive: true })
    run('mount', [
      '-t',
      'overlay',
      '-o',
      `lowerdir=${lower},upperdir=${upper},workdir=${work}`,
      'overlay',
      share.target,
    ])
    if (!opensFiles(share.target)) {
      // Kernel 5.10's hostfs opens files by the path overlayfs hands it, not its own: every open
      // fails with ENOENT. The share stays read-only there.
      run('umount', [share.target])
      run('mount', ['-o', 'move', lower, share.target])
    }
  })
}

/** Whether a regular file in the first few levels of a directory can be opened (true if none is found). */
function opensFiles(dir: string): boolean {
  const pending = [dir]
  for (let seen = 0; pending.length > 0 && seen < 200; ) {
    const current = pending.shift() as string
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      seen++
      const path = join(current, entry.name)
      if (entry.isDirectory()) pending.push(path)
      else if (entry.isFile()) {
        try {
          closeSync(openSync(path, 'r'))
          return true
        } catch {
          return false
        }
      }
    }
  }
  return true
}

function mountHostfs(source: string, target: string, writable: boolean): void {
  mkdirSync(target, { recursive: true })
  const mode = writable ? 'rw' : 'ro'
  const attempts = [`${mode},hostfs=${source}`, `${mode},${source}`]
  const failures: string[] = []
  const mounted = attempts.some((options) => {
    const result = spawnSync('mount', ['-t', 'hostfs', '-o', options, 'none', target], { encoding: 'utf8' })
    if (result.status !== 0) failures.push(`${options}: ${result.stderr.trim() || result.error?.message}`)
    return result.status === 0
  })
  if (!mounted) throw new Error(`Cannot mount ${source} at ${target}: ${failures.join('; ')}`)
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' })
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.trim() || result.error?.message}`)
  }
}
