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

export interface SandboxOptions {
  mounts: SandboxMount[]
  /** Private tmpfs mounts; `/tmp` is always one (TMPDIR points there). */
  scratch?: SandboxScratch[]
}

/**
 * Arguments for bubblewrap that confine a UML process: new namespaces of every kind, no network,
 * no capabilities, private tmpfs scratch space that vanishes with the sandbox, and nothing of the
 * host's file system except the given mounts. The process dies with its parent, so a host process
 * that is killed leaves no guest running.
 */
export function buildSandboxArgs(options: SandboxOptions): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv']
  args.push('--setenv', 'TMPDIR', '/tmp', '--setenv', 'PATH', '/usr/bin:/bin')
  args.push('--dev', '/dev', '--proc', '/proc')
  const scratch = [...(options.scratch ?? [])]
  if (!scratch.some((entry) => entry.target === '/tmp')) scratch.unshift({ target: '/tmp' })
  for (const entry of scratch) {
    if (entry.sizeBytes !== undefined) args.push('--size', String(entry.sizeBytes))
    args.push('--tmpfs', entry.target)
  }
  for (const mount of options.mounts) {
    args.push(mount.writable ? '--bind' : '--ro-bind', mount.source, mount.target)
  }
  return args
}
