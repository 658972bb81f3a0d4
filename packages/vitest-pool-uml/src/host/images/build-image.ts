import { join } from 'node:path'
import { z } from 'zod'
import {
  cacheDirSchema,
  debianMirror,
  getCacheDir,
  type Progress,
  progressSchema,
  requireHostTool,
  requireWorkDir,
  silentProgress,
} from '../core/index.js'
import { bootstrapTarball } from './bootstrap.js'
import { recipeImageHash } from './image-hash.js'
import { installImage } from './install-image.js'
import type { InstalledImage } from './installed-image.js'
import type { Recipe } from './recipe-schema.js'
import { findRecipe, unknownImageError } from './recipes.js'
import { validateOptions } from './validate-options.js'

export interface BuildImageOptions {
  /** Defaults to getCacheDir(). */
  cacheDir?: string
  /** Debian mirror (http, https or file); defaults to $VITEST_UML_DEBIAN_MIRROR, else DEFAULT_DEBIAN_MIRROR. */
  mirror?: string
  progress?: Progress
}

/** Room a build needs in the cache: the system mmdebstrap assembles, its tarball and the image. */
const BOOTSTRAP_BYTES = 1024 ** 3

const buildOptionsSchema = z.object({
  cacheDir: cacheDirSchema.optional(),
  // mmdebstrap also reads a mirror on the local disk.
  mirror: z.url({ protocol: /^(https?|file)$/ }).optional(),
  progress: progressSchema.optional(),
})

/**
 * Builds a recipe's image into the cache (steps: bootstrap, image) and returns it. Already built
 * from the same recipe, it is returned at once; remove it first to force a rebuild.
 */
export async function buildImage(name: string, options: BuildImageOptions = {}): Promise<InstalledImage> {
  const recipe = await findRecipe(name)
  if (!recipe) throw await unknownImageError(name, 'Imported images cannot be built; import them again instead.')
  return buildRecipeImage(recipe, options)
}

/** Builds an image from a recipe given in code (a project's own Debian suite and packages). */
export async function buildRecipeImage(recipe: Recipe, options: BuildImageOptions = {}): Promise<InstalledImage> {
  const { name } = recipe
  const parsed = validateOptions(buildOptionsSchema, options, 'buildImage')
  const progress = parsed.progress ?? silentProgress
  const mirror = debianMirror(parsed.mirror)
  // mmdebstrap's own progress is only worth showing to someone watching a terminal.
  const verbose = parsed.progress !== undefined && process.stderr.isTTY === true && !process.env.CI
  const cacheDir = parsed.cacheDir ?? getCacheDir()
  return installImage({
    cacheDir,
    name,
    hash: recipeImageHash(recipe),
    source: 'recipe',
    progress,
    failureCode: 'UML_IMAGE_BUILD_FAILED',
    origin: `The bootstrapped Debian ${recipe.suite} for image ${name}`,
    async produceTarball(workDir) {
      // Before the bootstrap, which takes minutes: every tool it takes, and room and exec rights
      // in the cache, where mmdebstrap assembles the system and runs its programs.
      const why = 'to build Debian guest images'
      for (const tool of ['mmdebstrap', 'tar', 'mke2fs'] as const) await requireHostTool(tool, why)
      await requireWorkDir(cacheDir, {
        minFreeBytes: BOOTSTRAP_BYTES,
        env: 'XDG_CACHE_HOME',
        why: `${why} (mmdebstrap assembles the system there and runs its programs)`,
      })
      const tarball = join(workDir, 'rootfs.tar')
      progress.start(`bootstrap ${name} (Debian ${recipe.suite}, ${recipe.variant})`)
      await bootstrapTarball(recipe, tarball, { mirror, verbose, workDir })
      progress.end()
      return tarball
    },
  })
}
