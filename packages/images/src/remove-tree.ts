import { rm } from 'node:fs/promises'
import { execa } from 'execa'
import { rootfsOwnerPrefix, withPrefix } from './id-mapping.js'

/**
 * Deletes a directory tree of the cache, including one that an unprivileged build killed mid-way
 * left owned by subordinate ids, which only the id-mapping namespace may delete.
 */
export async function removeCacheTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EACCES' && code !== 'EPERM') throw error
    const prefix = await rootfsOwnerPrefix('UML_IMAGE_BUILD_FAILED')
    await execa(...withPrefix(prefix, 'rm', ['-rf', '--', dir]), { stdin: 'ignore' })
  }
}
