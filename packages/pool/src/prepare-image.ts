import type { Progress } from '@vitest-uml/core'
import type { GuestOptions } from '@vitest-uml/guest'
import { buildRecipeImage, deriveImage, ensureImage, type InstalledImage } from '@vitest-uml/images'
import type { ImageRecipe } from './pool-options.js'

export interface PrepareImageContext {
  recipes: Record<string, ImageRecipe>
  kernel: GuestOptions['kernel']
  cacheDir: string
  progress: Progress
}

/**
 * The image named `name`: one of the project's own images (built, derived, or both, each step
 * cached), else a recipe or imported image from the cache, built if it is a recipe.
 */
export async function prepareImage(name: string, context: PrepareImageContext): Promise<InstalledImage> {
  const { recipes, cacheDir, progress } = context
  const recipe = recipes[name]
  if (!recipe) return ensureImage(name, { cacheDir, progress })
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
    : await prepareImage(recipe.from ?? 'debian-trixie', context)
  if (!recipe.setup) return base
  return deriveImage({ name, base, setup: recipe.setup, kernel: context.kernel, cacheDir, progress })
}
