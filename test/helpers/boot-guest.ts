import { Guest, type GuestOptions, getCacheDir, guestKernel, resolveImage, resolveKernel } from 'vitest-pool-uml/api'

export interface TestGuestOptions extends Partial<Omit<GuestOptions, 'kernel' | 'imagePath'>> {
  kernel?: string
  image?: string
}

/** Guest options for a kernel and image from the suite's cache (the global setup filled it). */
export async function guestOptions(options: TestGuestOptions = {}): Promise<GuestOptions> {
  const { kernel: kernelName = '7.2', image: imageName = 'debian-bookworm', ...rest } = options
  const cacheDir = getCacheDir()
  const kernel = await resolveKernel(kernelName, { cacheDir })
  const image = await resolveImage(imageName, { cacheDir })
  return {
    kernel: guestKernel(kernel),
    imagePath: image.path,
    cacheDir,
    ...rest,
  }
}

export async function bootGuest(options: TestGuestOptions = {}): Promise<Guest> {
  return Guest.boot(await guestOptions(options))
}
