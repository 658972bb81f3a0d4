import { randomBytes } from 'node:crypto'
import {
  createStreamProgress,
  ensureImage,
  fetchKernel,
  getCacheDir,
  KERNEL_NAMES,
  listRecipes,
} from 'vitest-pool-uml/api'
import { startKernelBuilds } from '../helpers/kernel-builds.js'
import { RUN_MARKER } from '../helpers/uml-processes.js'

/**
 * Marks this run, so leak checks count only its own guests, then fetches every pinned kernel and
 * builds every recipe image once for the whole suite, through the same code paths as `vitest-uml
 * kernels fetch` and `images build` (CI starts from an empty cache). The built-in kernel recipes
 * (custom-7.2) compile in the background meanwhile and while the files that do not need them run
 * (see helpers/kernel-builds.ts); the teardown stops a build still running.
 */
export default async function setup(): Promise<() => Promise<void>> {
  process.env[RUN_MARKER] = randomBytes(8).toString('hex')
  const stopKernelBuilds = await startKernelBuilds()
  try {
    const cacheDir = getCacheDir()
    const progress = createStreamProgress()
    for (const name of KERNEL_NAMES) await fetchKernel(name, { cacheDir, progress })
    for (const recipe of await listRecipes()) await ensureImage(recipe.name, { cacheDir, progress })
  } catch (error) {
    await stopKernelBuilds()
    throw error
  }
  return stopKernelBuilds
}
