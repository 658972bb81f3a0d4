/** Host variables that describe the host (its user, its files), not the guest, and so are not passed in. */
const HOST_ONLY = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'PWD',
  'OLDPWD',
  'TMPDIR',
  'TMP',
  'TEMP',
  'XDG_RUNTIME_DIR',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
])

/** The guest's own search path, then the host Node runtime that the guest mounts. */
const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/vitest-uml/node/bin'

/**
 * The environment of a test worker in the guest: what Vitest gives its workers (the host's
 * environment with `test.env` over it) minus what only makes sense on the host, plus the pool's
 * own `env` option. The agent sets HOME, USER and LOGNAME for the guest user.
 */
export function guestWorkerEnv(
  vitestEnv: Partial<NodeJS.ProcessEnv>,
  extra: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(vitestEnv)) {
    if (value !== undefined && !HOST_ONLY.has(name)) env[name] = value
  }
  return { ...env, PATH: GUEST_PATH, ...extra }
}
