import { createHash } from 'node:crypto'
import { imagePackages } from './bootstrap.js'
import { GUEST_INIT_STUB } from './guest-init-stub.js'
import type { Recipe } from './recipe-schema.js'

/** Bump when the pipeline changes what ends up in an image, so old cache entries stop matching. */
export const IMAGE_BUILDER_VERSION = 2

const HASH_LENGTH = 16

/**
 * Identifies a recipe image by what it is built from. The description is left out on purpose:
 * rewording it must not force a rebuild.
 */
export function recipeImageHash(recipe: Recipe): string {
  return shortHash({ suite: recipe.suite, variant: recipe.variant, packages: imagePackages(recipe) })
}

/** Identifies an imported image by the tarball's own sha256. */
export function importImageHash(tarballSha256: string): string {
  return shortHash({ tarballSha256 })
}

/** Identifies an image from a registry or an image archive by its manifest's digest, whatever ref named it. */
export function ociImageHash(manifestDigest: string): string {
  return shortHash({ manifestDigest })
}

/** Identifies a derived image by its base image and the setup script run on it. */
export function derivedImageHash(baseHash: string, setup: string): string {
  return shortHash({ baseHash, setup })
}

function shortHash(input: Record<string, unknown>): string {
  const text = JSON.stringify({ builder: IMAGE_BUILDER_VERSION, initStub: GUEST_INIT_STUB, input })
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH)
}
