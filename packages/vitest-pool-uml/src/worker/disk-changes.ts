import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs'
import { join } from 'node:path'

/** Where the guest's init mounts the pristine image, read-only (see the agent's init.sh). */
const BASE = '/run/vitest-uml-base'

export interface DiskChanges {
  /** Paths that exist now and did not at boot. */
  added: string[]
  /** Paths whose type, mode, owner, size, modification time or link target changed. */
  changed: string[]
  /** Paths that existed at boot and do not now. */
  removed: string[]
}

export interface DiskChangesOptions {
  /** Path prefixes to leave out, for example `['/var/log']`. */
  ignore?: string[]
}

/**
 * What changed on the guest's root file system since it booted, compared with the pristine image.
 * Other file systems mounted in the guest (/proc, /sys, /dev, /run, /tmp, the shares) are left out,
 * as are the directories made to mount the shares on, and a directory whose only change is the
 * list of its entries.
 */
export function diskChanges(options: DiskChangesOptions = {}): DiskChanges {
  if (!existsSync(BASE))
    throw new Error('diskChanges() works inside vitest-uml guests only, where the pristine image is mounted.')
  const mountPoints = otherMountPoints()
  const skip = [...mountPoints, ...(options.ignore ?? [])]
  const skipped = (path: string) => skip.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))
  const holdsMountPoint = (path: string) => mountPoints.some((point) => point.startsWith(`${path}/`))
  const changes: DiskChanges = { added: [], changed: [], removed: [] }
  const walk = (path: string) => {
    const current = entries(path === '/' ? '/' : path)
    const base = entries(join(BASE, path))
    for (const name of [...new Set([...current, ...base])].sort()) {
      const child = join(path, name)
      if (skipped(child)) continue
      const now = stat(child)
      const then = stat(join(BASE, child))
      if (now && !then && holdsMountPoint(child)) {
        walk(child)
        continue
      }
      if (now && !then) changes.added.push(child)
      else if (!now && then) changes.removed.push(child)
      else if (now && then && differs(child, now, then)) changes.changed.push(child)
      const nowDir = now?.isDirectory() ?? false
      const thenDir = then?.isDirectory() ?? false
      if (nowDir || thenDir) walkAll(child, nowDir, thenDir)
    }
  }
  const walkAll = (path: string, nowDir: boolean, thenDir: boolean) => {
    if (nowDir && thenDir) return walk(path)
    // A directory added or removed as a whole: list what it holds on its side.
    const list = nowDir ? changes.added : changes.removed
    const root = nowDir ? '' : BASE
    const each = (dir: string) => {
      for (const name of entries(root + dir).sort()) {
        const child = join(dir, name)
        if (skipped(child)) continue
        list.push(child)
        if (stat(root + child)?.isDirectory()) each(child)
      }
    }
    each(path)
  }
  walk('/')
  return changes
}

function differs(path: string, now: Stats, then: Stats): boolean {
  if ((now.mode & 0o170000) !== (then.mode & 0o170000)) return true
  if (now.mode !== then.mode || now.uid !== then.uid || now.gid !== then.gid) return true
  if (now.isDirectory()) return false
  if (now.isSymbolicLink()) return readlinkSync(path) !== readlinkSync(join(BASE, path))
  return now.size !== then.size || now.mtimeMs !== then.mtimeMs
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

function stat(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

/** Mount points other than the root: /proc, /sys, /dev, /run, /tmp, the shares... */
function otherMountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && point !== '/')
    .map((point) => point.replace(/\\040/g, ' '))
}
