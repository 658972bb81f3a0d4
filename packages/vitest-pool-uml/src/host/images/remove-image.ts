import { rmdir } from 'node:fs/promises'
import { exists, getCacheDir } from '../core/index.js'
import { readCacheEntries } from './cache-entries.js'
import { imageNameDir } from './cache-layout.js'
import { IMAGE_NAME_PATTERN } from './image-names.js'
import { formatImageRef, type ImageRef, isImageRef, parseImageRef, repositoryDirName } from './oci/image-ref.js'
import { findRecipe, unknownImageError } from './recipes.js'
import { removeCacheTree } from './remove-tree.js'
import { cacheOptionsSchema, validateOptions } from './validate-options.js'

/**
 * Deletes every cache entry of an image (all recipe versions, all imports under the name), or the
 * images a registry reference was pulled as (by that reference, or by its digest).
 * Returns false when a recipe's or reference's image was not in the cache.
 */
export async function removeImage(name: string, options: { cacheDir?: string } = {}): Promise<boolean> {
  const cacheDir = validateOptions(cacheOptionsSchema, options, 'removeImage').cacheDir ?? getCacheDir()
  if (isImageRef(name)) return removePulledImage(parseImageRef(name), cacheDir)
  if (!IMAGE_NAME_PATTERN.test(name)) throw await unknownImageError(name)
  const dir = imageNameDir(cacheDir, name)
  if (!(await exists(dir))) {
    if (await findRecipe(name)) return false
    throw await unknownImageError(name, `No image "${name}" was imported into ${cacheDir} either.`)
  }
  await removeCacheTree(dir)
  return true
}

async function removePulledImage(ref: ImageRef, cacheDir: string): Promise<boolean> {
  const key = formatImageRef(ref)
  const dir = imageNameDir(cacheDir, repositoryDirName(ref))
  const matching = (await readCacheEntries(cacheDir, repositoryDirName(ref)).catch(() => [])).filter(
    ({ image }) => image.ref === key || (ref.digest !== undefined && image.digest === ref.digest),
  )
  for (const { image } of matching) await removeCacheTree(image.dir)
  await rmdir(dir).catch(() => {})
  return matching.length > 0
}
