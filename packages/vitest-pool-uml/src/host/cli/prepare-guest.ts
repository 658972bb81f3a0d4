import { resolve } from 'node:path'
import { createStreamProgress, getCacheDir } from '../core/index.js'
import { type GuestOptions, guestKernel, type Share } from '../guest/index.js'
import { DEFAULT_IMAGE, ensureImage, LOCK_FILE_NAME } from '../images/index.js'
import { DEFAULT_KERNEL, ensureKernel } from '../kernels/index.js'
import { type GuestFlags, networkOption } from './guest-flags.js'

/**
 * Guest options for a CLI command: the chosen (or default) kernel and image, fetched, built or
 * pulled first when the cache lacks them, with progress on stderr. A registry image is pinned in
 * the lock file of the current directory, as `images pull` does (and must be pinned there in CI).
 */
export async function prepareGuest(flags: GuestFlags, shares: Share[] = []): Promise<GuestOptions> {
  const cacheDir = getCacheDir()
  const progress = createStreamProgress()
  const kernel = await ensureKernel(flags.kernel ?? DEFAULT_KERNEL, { cacheDir, progress })
  const image = await ensureImage(flags.image ?? DEFAULT_IMAGE, {
    cacheDir,
    progress,
    lockFile: resolve(LOCK_FILE_NAME),
    frozen: Boolean(process.env.CI),
  })
  return {
    kernel: guestKernel(kernel),
    imagePath: image.path,
    cacheDir,
    shares,
    ...(flags.memory !== undefined && { memoryMiB: flags.memory }),
    network: networkOption(flags),
    ...(flags.time !== undefined && { time: flags.time }),
    ...(flags.clock !== undefined && { clock: flags.clock }),
  }
}
