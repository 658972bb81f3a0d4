import { homedir } from 'node:os'
import { join } from 'node:path'

/**
 * Where kernels, images and the guest Node runtime are kept:
 * `$XDG_CACHE_HOME/vitest-uml`, else `~/.cache/vitest-uml`.
 */
export function getCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME
  return join(xdg?.startsWith('/') ? xdg : join(homedir(), '.cache'), 'vitest-uml')
}
