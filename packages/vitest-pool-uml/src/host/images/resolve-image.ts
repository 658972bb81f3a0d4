import { exists, getCacheDir, isUmlError, UmlError } from '../core/index.js'
import { type BuildImageOptions, buildImage } from './build-image.js'
import { readCacheEntries } from './cache-entries.js'
import { imageEntryDir } from './cache-layout.js'
import { recipeImageHash } from './image-hash.js'
import { IMAGE_NAME_PATTERN } from './image-names.js'
import { type InstalledImage, readInstalledImage } from './installed-image.js'
import { isImageRef } from './oci/image-ref.js'
import { pullImage } from './oci/pull-image.js'
import { findRecipe, unknownImageError } from './recipes.js'
import { cacheOptionsSchema, validateOptions } from './validate-options.js'

export interface ResolveImageOptions {
  /** Defaults to getCacheDir(). */
  cacheDir?: string
}

/**
 * The cached image a guest should boot for `name`: a recipe's image built from the recipe as it
 * is now, or the newest import under that name.
 */
export async function resolveImage(name: string, options: ResolveImageOptions = {}): Promise<InstalledImage> {
  const cacheDir = validateOptions(cacheOptionsSchema, options, 'resolveImage').cacheDir ?? getCacheDir()
  if (!IMAGE_NAME_PATTERN.test(name)) throw await unknownImageError(name)
  const recipe = await findRecipe(name)
  if (recipe) {
    const entry = imageEntryDir(cacheDir, name, recipeImageHash(recipe))
    if (await exists(entry)) return (await readInstalledImage(entry)).image
    throw new UmlError(
      'UML_IMAGE_NOT_BUILT',
      `Image ${name} is not built yet (or its recipe changed since it was). Run \`vitest-uml images build ${name}\`.`,
      { details: { name, cacheDir, expected: entry } },
    )
  }
  const [newest] = (await readCacheEntries(cacheDir, name)).filter((entry) => entry.image.source === 'import')
  if (newest) return newest.image
  throw await unknownImageError(name, `No image "${name}" was imported into ${cacheDir} either.`)
}

export interface EnsureImageOptions extends BuildImageOptions {
  /** For registry references: the lock file that pins them (see pullImage). */
  lockFile?: string
  /** For registry references: refuse tags the lock file does not pin. */
  frozen?: boolean
}

/**
 * Like resolveImage, but builds a recipe's image first when it is missing; a registry reference
 * (`docker.io/library/alpine:3.21`) is pulled, pinned in the lock file, when the cache lacks it.
 */
export async function ensureImage(name: string, options: EnsureImageOptions = {}): Promise<InstalledImage> {
  if (isImageRef(name)) return pullImage(name, options)
  try {
    return await resolveImage(name, { cacheDir: options.cacheDir })
  } catch (error) {
    if (isUmlError(error, 'UML_IMAGE_NOT_BUILT')) return buildImage(name, options)
    throw error
  }
}
