import type { Progress } from '../core/index.js'
import type { GuestOptions } from '../guest/index.js'
import { buildRecipeImage, DEFAULT_IMAGE, deriveImage, ensureImage, type InstalledImage } from '../images/index.js'
import type { ImageRecipe } from './pool-options.js'

export interface PrepareImageContext {
  recipes: Record<string, ImageRecipe>
  kernel: GuestOptions['kernel']
  cacheDir: string
  progress: Progress
  /** Pins registry references (see pullImage). */
  lockFile: string
  /** Refuse references the lock file does not pin. */
  frozen: boolean
}

/**
 * The image named `name`: one of the project's own images (built, derived, or both, each step
 * cached), else a recipe or imported image from the cache, built if it is a recipe, or a registry
 * reference, pulled and pinned.
 */
export async function prepareImage(name: string, context: PrepareImageContext): Promise<InstalledImage> {
  const { recipes, cacheDir, progress, lockFile, frozen } = context
  const recipe = recipes[name]
  if (!recipe) return ensureImage(name, { cacheDir, progress, lockFile, frozen })
  const base = recipe.suite
    ? await buildRecipeImage(
        {
          name: recipe.setup ? `${name}.base` : name,
          suite: recipe.suite,
          variant: 'minbase',
          packages: recipe.packages,
          description: `${name}, from vitest.config`,
        },
        { cacheDir, progress },
      )
    : await prepareImage(recipe.from ?? DEFAULT_IMAGE, context)
  if (!recipe.setup) return base
  const { setup, network } = recipe
  return deriveImage({ name, base, setup, network, kernel: context.kernel, cacheDir, progress })
}
