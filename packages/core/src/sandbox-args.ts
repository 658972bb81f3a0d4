/** A host path made visible inside the sandbox. */
export interface SandboxMount {
  source: string
  target: string
  /** Read-only unless set: the sandbox, not the guest, enforces it. */
  writable?: boolean
}

export interface SandboxOptions {
  mounts: SandboxMount[]
  /** Cap in bytes on the sandbox's private /tmp (guest memory file, COW disk, UML sockets). */
  tmpSizeBytes?: number
}

/**
 * Arguments for bubblewrap that confine a UML process: new namespaces of every kind, no network,
 * a private /tmp that vanishes with the sandbox, and nothing of the host's file system except the
 * given mounts. The process dies with its parent, so an interrupted host leaves no guest running.
 */
export function buildSandboxArgs(options: SandboxOptions): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv']
  args.push('--setenv', 'TMPDIR', '/tmp', '--setenv', 'PATH', '/usr/bin:/bin')
  args.push('--dev', '/dev', '--proc', '/proc')
  if (options.tmpSizeBytes !== undefined) args.push('--size', String(options.tmpSizeBytes))
  args.push('--tmpfs', '/tmp')
  for (const mount of options.mounts) {
    args.push(mount.writable ? '--bind' : '--ro-bind', mount.source, mount.target)
  }
  return args
}
