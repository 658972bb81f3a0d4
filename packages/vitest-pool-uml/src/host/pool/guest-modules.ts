import { createRequire } from 'node:module'
import { dirname } from 'node:path'

/**
 * Where the pool's own modules that run in the guest's Vitest worker are (built from src/worker/): the
 * snapshot environments that write through the host, `vitest-pool-uml/disk`. Resolved when a
 * project is prepared, not at import, so the sources load without a build.
 */
export function guestModulesDir(): string {
  return `${dirname(createRequire(import.meta.url).resolve('vitest-pool-uml/snapshot-environment'))}/`
}
