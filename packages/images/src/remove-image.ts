import { exists, getCacheDir } from '@vitest-uml/core'
import { imageNameDir } from './cache-layout.js'
import { IMAGE_NAME_PATTERN } from './image-names.js'
import { findRecipe, unknownImageError } from './recipes.js'
import { removeCacheTree } from './remove-tree.js'
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
  await removeCacheTree(dir)
  return true
}
