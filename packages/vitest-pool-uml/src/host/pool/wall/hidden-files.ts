import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import type { HostFiles } from './host-files.js'

/** Entries looked at before the search gives up on the rest of a very large tree. */
const MAX_ENTRIES = 200_000

export interface HiddenPath {
  /** Relative to the searched directory. */
  path: string
  directory: boolean
}

/**
 * What the guest must not see of the project it mounts: files and directories `server.fs.deny`
 * covers (by Vite's defaults `.env` files, keys and certificates, `.npmrc`, `.git`). Module fetches refuse them; the share
 * hides them too, or the guest could read them from its mount. `node_modules` is not searched:
 * packages are not the project's secrets.
 */
export async function findHiddenPaths(root: string, files: HostFiles): Promise<HiddenPath[]> {
  const hidden: HiddenPath[] = []
  const queue = [root]
  let seen = 0
  while (queue.length > 0 && seen < MAX_ENTRIES) {
    const dir = queue.shift() as string
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      seen++
      const path = join(dir, entry.name)
      const directory = entry.isDirectory()
      // Symbolic links lead nowhere in the sandbox, which holds only what it was given.
      if (entry.isSymbolicLink() || (directory && entry.name === 'node_modules')) continue
      if (!files.allows(path)) hidden.push({ path: relative(root, path), directory })
      else if (directory) queue.push(path)
    }
  }
  return hidden
}
