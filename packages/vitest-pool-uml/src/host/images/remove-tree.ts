import { removeTree } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'
import { rootfsOwnerPrefix, withPrefix } from './id-mapping.js'

/**
 * Deletes a directory tree of the cache, including one that an unprivileged build killed mid-way
 * left owned by subordinate ids, which only the id-mapping namespace may delete.
 */
export async function removeCacheTree(dir: string): Promise<void> {
  try {
    await removeTree(dir)
  } catch (error) {
    const prefix = await rootfsOwnerPrefix('UML_IMAGE_BUILD_FAILED')
    if (prefix.length === 0) throw error
    const { execa } = await loadExeca()
    await execa(...withPrefix(prefix, 'rm', ['-rf', '--one-file-system', '--', dir]), { stdin: 'ignore' })
  }
}
