/** A host path made visible inside the sandbox. */
export interface SandboxMount {
  source: string
  target: string
  /** Read-only unless set: the sandbox, not the guest, enforces it. */
  writable?: boolean
}

/** A private tmpfs inside the sandbox, gone when the sandbox ends. */
export interface SandboxScratch {
  target: string
  /** Cap in bytes; writes past it fail with ENOSPC. */
  sizeBytes?: number
}

/** A path inside a mount that the sandbox shows empty: a file as /dev/null, a directory as an empty one. */
export interface SandboxHidden {
  target: string
  directory: boolean
}

export interface SandboxOptions {
  mounts: SandboxMount[]
  /** Symbolic links to make, as `link -> target` (a host's merged /usr: /lib -> usr/lib). */
  symlinks?: { link: string; target: string }[]
  /** Keep the host's network namespace (a network helper's), instead of a new, empty one. */
  shareNetwork?: boolean
  /** Paths inside the mounts to hide (applied after them). */
  hidden?: SandboxHidden[]
  /** Private tmpfs mounts; `/tmp` is always one (TMPDIR points there). */
  scratch?: SandboxScratch[]
  /**
   * Directories to make first, mode 0755: bubblewrap makes a mount's missing parents 0700, which
   * shuts out every guest user but root where the guest mounts such a directory over hostfs.
   */
  openDirs?: string[]
}

/**
 * Arguments for bubblewrap that confine a UML process (or a guest's network helper):
 * new namespaces of every kind, no network (the helper keeps the host's), no capabilities, private tmpfs scratch space that vanishes with the sandbox, and nothing of the
 * host's file system except the given mounts. The process dies with its parent, so a host process
 * that is killed leaves no guest running.
 */
export function buildSandboxArgs(options: SandboxOptions): string[] {
  const args = [
    '--unshare-all',
    ...(options.shareNetwork ? ['--share-net'] : []),
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--clearenv',
  ]
  args.push('--setenv', 'TMPDIR', '/tmp', '--setenv', 'PATH', '/usr/bin:/bin')
  args.push('--dev', '/dev', '--proc', '/proc')
  const scratch = [...(options.scratch ?? [])]
  if (!scratch.some((entry) => entry.target === '/tmp')) scratch.unshift({ target: '/tmp' })
  for (const entry of scratch) {
    if (entry.sizeBytes !== undefined) args.push('--size', String(entry.sizeBytes))
    args.push('--tmpfs', entry.target)
  }
  for (const dir of options.openDirs ?? []) args.push('--perms', '0755', '--dir', dir)
  for (const mount of options.mounts) {
    args.push(mount.writable ? '--bind' : '--ro-bind', mount.source, mount.target)
  }
  for (const { link, target } of options.symlinks ?? []) args.push('--symlink', target, link)
  for (const hidden of options.hidden ?? []) {
    if (hidden.directory) args.push('--tmpfs', hidden.target, '--remount-ro', hidden.target)
    else args.push('--ro-bind', '/dev/null', hidden.target)
  }
  return args
}
