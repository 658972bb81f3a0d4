import { randomBytes } from 'node:crypto'
import {
  builtinRecipeNames,
  createStreamProgress,
  ensureImage,
  ensureKernel,
  fetchKernel,
  getCacheDir,
  KERNEL_NAMES,
  listRecipes,
} from 'vitest-pool-uml/api'
import { RUN_MARKER } from '../helpers/uml-processes.js'

/**
 * Marks this run, so leak checks count only its own guests, then fetches every pinned kernel,
 * builds every recipe image and every built-in kernel recipe (custom-7.2: a few minutes of
 * compiling on a fresh machine) once for the whole suite, through the same code paths as
 * `vitest-uml kernels fetch`, `images build` and `kernels build` (CI starts from an empty cache).
 * The compile runs beside the downloads and image builds, which mostly wait on the network and
 * on one dpkg at a time.
 */
export default async function setup(): Promise<void> {
  process.env[RUN_MARKER] = randomBytes(8).toString('hex')
  const cacheDir = getCacheDir()
  const fetchAndBuildImages = async () => {
    const progress = createStreamProgress()
    for (const name of KERNEL_NAMES) await fetchKernel(name, { cacheDir, progress })
    for (const recipe of await listRecipes()) await ensureImage(recipe.name, { cacheDir, progress })
  }
  const buildKernels = async () => {
    const progress = createStreamProgress()
    for (const name of builtinRecipeNames()) await ensureKernel(name, { cacheDir, progress })
  }
  await Promise.all([fetchAndBuildImages(), buildKernels()])
}
