/** What a tarball says about one path of the root file system it holds. */
export interface RootfsEntry {
  type: 'file' | 'link' | 'symlink' | 'directory' | 'other'
  /** Target of a symlink, or the archive path a hard link points at. */
  linkname?: string
}

/** Archive paths normalized to `usr/bin/sh` form (no `./`, no trailing `/`); the root is `''`. */
export type RootfsIndex = Map<string, RootfsEntry>

const MAX_SYMLINKS = 40

export function normalizeArchivePath(name: string): string {
  return name
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/')
}

/**
 * Resolves an absolute path the way the guest kernel would, but over the tarball's entries, so
 * that symlinks (often absolute in container exports) are followed inside the root file system and
 * never on the host. Returns the archive path it ends at, or undefined for a symlink loop.
 */
export function resolveInRootfs(index: RootfsIndex, path: string): string | undefined {
  const pending = normalizeArchivePath(path).split('/').filter(Boolean)
  const resolved: string[] = []
  let symlinks = 0
  while (pending.length > 0) {
    const part = pending.shift()!
    if (part === '..') {
      resolved.pop()
      continue
    }
    const candidate = [...resolved, part].join('/')
    const entry = index.get(candidate)
    if (entry?.type === 'symlink' && entry.linkname !== undefined) {
      if (++symlinks > MAX_SYMLINKS) return undefined
      if (entry.linkname.startsWith('/')) resolved.length = 0
      pending.unshift(...entry.linkname.split('/').filter((p) => p !== '' && p !== '.'))
      continue
    }
    resolved.push(part)
  }
  const final = resolved.join('/')
  const entry = index.get(final)
  return entry?.type === 'link' && entry.linkname !== undefined ? normalizeArchivePath(entry.linkname) : final
}
