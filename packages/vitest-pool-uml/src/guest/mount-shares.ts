import { spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ShareMount, shellQuote } from '../shared/index.js'

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
 * the guest: the guest writes where it likes, the host's files never change. All mounts are made
 * by one shell: a fork of Node costs several times a shell's fork of `mount` in a guest.
 */
export function mountShares(shares: ShareMount[]): void {
  const steps: string[][][] = []
  if (shares.some((share) => share.copyOnWrite)) {
    if (!/\toverlay\n/.test(readFileSync('/proc/filesystems', 'utf8'))) {
      throw new Error(
        'overlayfs, which makes the project writable in the guest, is missing: init loads its module with insmod ' +
          '(kmod, busybox) or perl, and this image has neither. Add kmod to the image or use a kernel with overlayfs built in.',
      )
    }
    mkdirSync(COW_DIR, { recursive: true })
    steps.push([['mount', '-o', 'bind', COW_DIR, COW_DIR]])
  }
  const overlays: Array<{ lower: string; target: string }> = []
  shares.forEach((share, index) => {
    if (!share.copyOnWrite) {
      mkdirSync(share.target, { recursive: true })
      steps.push(hostfsMount(share.source, share.target, share.writable))
      return
    }
    const lower = `${LOWER_DIR}/${index}`
    const upper = `${COW_DIR}/${index}/upper`
    const work = `${COW_DIR}/${index}/work`
    for (const dir of [lower, upper, work, share.target]) mkdirSync(dir, { recursive: true })
    steps.push(hostfsMount(share.source, lower, false), [
      ['mount', '-t', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, 'overlay', share.target],
    ])
    overlays.push({ lower, target: share.target })
  })
  runSteps(steps)
  // Kernel 5.10's hostfs opens files by the path overlayfs hands it, not its own: every open
  // fails with ENOENT. The share stays read-only there.
  const broken = overlays.filter(({ target }) => !opensFiles(target))
  runSteps(broken.flatMap(({ lower, target }) => [[['umount', target]], [['mount', '-o', 'move', lower, target]]]))
}

/** A hostfs mount, in the form newer kernels take, else in the older one. */
function hostfsMount(source: string, target: string, writable: boolean): string[][] {
  const mode = writable ? 'rw' : 'ro'
  return [`${mode},hostfs=${source}`, `${mode},${source}`].map((options) => [
    'mount',
    '-t',
    'hostfs',
    '-o',
    options,
    'none',
    target,
  ])
}

/**
 * Runs each step in one shell, in order, and throws with the shell's error output at the first
 * that fails. A step is one command, or alternatives tried in order until one succeeds (the
 * error output of all but the last is dropped).
 */
function runSteps(steps: string[][][]): void {
  if (steps.length === 0) return
  const script = steps
    .map((alternatives) => {
      const lines = alternatives.map((argv) => argv.map(shellQuote).join(' '))
      const tried = lines.map((line, index) => (index < lines.length - 1 ? `${line} 2>/dev/null` : line)).join(' || ')
      return `${tried} || { echo ${shellQuote(`${lines.at(-1)} failed`)} >&2; exit 1; }`
    })
    .join('\n')
  const result = spawnSync('sh', ['-c', script], { encoding: 'utf8' })
  if (result.status !== 0)
    throw new Error(result.stderr.trim() || result.error?.message || 'mounting the shares failed')
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
