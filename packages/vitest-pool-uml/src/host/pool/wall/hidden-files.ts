import { readdir, realpath } from 'node:fs/promises'
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
  const realRoot = await realpath(root)
  let level = [realRoot]
  let seen = 0
  // A level's directories are read at once; below a real directory, an entry that is no link is real.
  while (level.length > 0 && seen < MAX_ENTRIES) {
    const listed = await Promise.all(level.map((dir) => readdir(dir, { withFileTypes: true }).catch(() => [])))
    const next: string[] = []
    for (const [index, entries] of listed.entries()) {
      if (seen >= MAX_ENTRIES) break
      for (const entry of entries) {
        seen++
        const path = join(level[index] as string, entry.name)
        const directory = entry.isDirectory()
        // Symbolic links lead nowhere in the sandbox, which holds only what it was given.
        if (entry.isSymbolicLink() || (directory && entry.name === 'node_modules')) continue
        if (!files.allowsRealPath(path)) hidden.push({ path: relative(realRoot, path), directory })
        else if (directory) next.push(path)
      }
    }
    level = next
  }
  return hidden
}
