import { exists, getCacheDir } from '../core/index.js'
import { readCacheEntries, readdirOrEmpty } from './cache-entries.js'
import { imageEntryDir, imageNameDir, imagesRoot } from './cache-layout.js'
import { diskUsage } from './disk-usage.js'
import { recipeImageHash } from './image-hash.js'
import { type ImageSource, type InstalledImage, readInstalledImage } from './installed-image.js'
import { listRecipes } from './recipes.js'
import { cacheOptionsSchema, validateOptions } from './validate-options.js'

export interface ImageListing {
  name: string
  source: ImageSource
  /** The recipe's description; imports have none. */
  description?: string
  /** Whether resolveImage(name) would find an image. */
  built: boolean
  /** The image resolveImage(name) returns, when built. */
  image?: InstalledImage
  /** Bytes used on disk by every cache entry under this name (images are sparse). */
  sizeOnDisk: number
}

/** Every recipe (built or not), and every other image in the cache: imported, or a project's own. */
export async function listImages(options: { cacheDir?: string } = {}): Promise<ImageListing[]> {
  const cacheDir = validateOptions(cacheOptionsSchema, options, 'listImages').cacheDir ?? getCacheDir()
  const recipes = await listRecipes()
  const recipeListings = await Promise.all(
    recipes.map(async (recipe): Promise<ImageListing> => {
      const entry = imageEntryDir(cacheDir, recipe.name, recipeImageHash(recipe))
      const image = (await exists(entry)) ? await readImageOrUndefined(entry) : undefined
      const sizeOnDisk = await sizeOf(cacheDir, recipe.name)
      return { name: recipe.name, source: 'recipe', description: recipe.description, built: !!image, image, sizeOnDisk }
    }),
  )
  const importNames = (await readdirOrEmpty(imagesRoot(cacheDir)))
    .filter((name) => !name.startsWith('.') && !recipes.some((recipe) => recipe.name === name))
    .sort()
  const importListings = await Promise.all(
    importNames.map(async (name): Promise<ImageListing[]> => {
      const entries = await readCacheEntries(cacheDir, name).catch(() => [])
      const [newest] = entries
      // An image pulled from a registry is listed by its reference, one row per digest.
      if (newest?.image.source === 'oci') return Promise.all(entries.map(({ image }) => pulledListing(image)))
      // Besides imports: a project's own images (built from its recipe, or derived by a setup script).
      const source = newest?.image.source ?? 'import'
      return [{ name, source, built: !!newest, image: newest?.image, sizeOnDisk: await sizeOf(cacheDir, name) }]
    }),
  )
  return [...recipeListings, ...importListings.flat()]
}

async function pulledListing(image: InstalledImage): Promise<ImageListing> {
  const name = image.ref ?? image.name
  return { name, source: 'oci', description: image.digest, built: true, image, sizeOnDisk: await diskUsage(image.dir) }
}

/** A damaged entry lists as not built; resolveImage reports the damage and the fix. */
async function readImageOrUndefined(entry: string): Promise<InstalledImage | undefined> {
  return readInstalledImage(entry).then(
    (result) => result.image,
    () => undefined,
  )
}

async function sizeOf(cacheDir: string, name: string): Promise<number> {
  const dir = imageNameDir(cacheDir, name)
  return (await exists(dir)) ? diskUsage(dir) : 0
}
