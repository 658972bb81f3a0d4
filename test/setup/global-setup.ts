import { randomBytes } from 'node:crypto'
import { createStreamProgress, getCacheDir } from '@vitest-uml/core'
import { ensureImage, listRecipes } from '@vitest-uml/images'
import { fetchKernel, KERNEL_NAMES } from '@vitest-uml/kernels'
import { RUN_MARKER } from '../helpers/uml-processes.js'

/**
 * Marks this run, so leak checks count only its own guests, then fetches every pinned kernel and
 * builds every recipe image once for the whole suite, through the same code paths as
 * `vitest-uml kernels fetch` and `images build` (CI starts from an empty cache).
 */
export default async function setup(): Promise<void> {
  process.env[RUN_MARKER] = randomBytes(8).toString('hex')
  const cacheDir = getCacheDir()
  const progress = createStreamProgress()
  for (const name of KERNEL_NAMES) await fetchKernel(name, { cacheDir, progress })
  for (const recipe of await listRecipes()) await ensureImage(recipe.name, { cacheDir, progress })
}
