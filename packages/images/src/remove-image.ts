import { rm } from 'node:fs/promises'
import { exists, getCacheDir } from '@vitest-uml/core'
import { execa } from 'execa'
import { imageNameDir } from './cache-layout.js'
import { rootfsOwnerPrefix, withPrefix } from './id-mapping.js'
import { IMAGE_NAME_PATTERN } from './image-names.js'
import { findRecipe, unknownImageError } from './recipes.js'
import { cacheOptionsSchema, validateOptions } from './validate-options.js'

/**
 * Deletes every cache entry of an image (all recipe versions, all imports under the name).
 * Returns false when a recipe's image was not in the cache.
 */
export async function removeImage(name: string, options: { cacheDir?: string } = {}): Promise<boolean> {
  const cacheDir = validateOptions(cacheOptionsSchema, options, 'removeImage').cacheDir ?? getCacheDir()
  if (!IMAGE_NAME_PATTERN.test(name)) throw await unknownImageError(name)
  const dir = imageNameDir(cacheDir, name)
  if (!(await exists(dir))) {
    if (await findRecipe(name)) return false
    throw await unknownImageError(name, `No image "${name}" was imported into ${cacheDir} either.`)
  }
  try {
    await rm(dir, { recursive: true, force: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EACCES' && code !== 'EPERM') throw error
    // An unprivileged build killed mid-way leaves an unpacked tree owned by subordinate ids,
    // which only the id-mapping namespace may delete.
    const prefix = await rootfsOwnerPrefix('UML_IMAGE_BUILD_FAILED')
    await execa(...withPrefix(prefix, 'rm', ['-rf', '--', dir]), { stdin: 'ignore' })
  }
  return true
}
