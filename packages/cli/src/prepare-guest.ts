import { createStreamProgress, getCacheDir } from '@vitest-uml/core'
import type { GuestOptions, Share } from '@vitest-uml/guest'
import { DEFAULT_IMAGE, ensureImage } from '@vitest-uml/images'
import { DEFAULT_KERNEL, fetchKernel } from '@vitest-uml/kernels'
import type { GuestFlags } from './guest-flags.js'

/**
 * Guest options for a CLI command: the chosen (or default) kernel and image, fetched and built
 * first when the cache lacks them, with progress on stderr.
 */
export async function prepareGuest(flags: GuestFlags, shares: Share[] = []): Promise<GuestOptions> {
  const cacheDir = getCacheDir()
  const progress = createStreamProgress()
  const kernel = await fetchKernel(flags.kernel ?? DEFAULT_KERNEL, { cacheDir, progress })
  const image = await ensureImage(flags.image ?? DEFAULT_IMAGE, { cacheDir, progress })
  return {
    kernel: { name: kernel.name, dir: kernel.dir, supportsSeccomp: kernel.supportsSeccomp },
    imagePath: image.path,
    cacheDir,
    shares,
    ...(flags.memory !== undefined && { memoryMiB: flags.memory }),
  }
}
