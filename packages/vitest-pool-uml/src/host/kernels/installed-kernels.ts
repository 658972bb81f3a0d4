import { type InstalledKernel, kernelEntryDir, readKernelEntry } from './kernel-entry.js'
import { type CacheOptions, resolveCacheOptions } from './kernel-options.js'
import { DEFAULT_KERNEL, getKernelPin, KERNEL_NAMES } from './kernel-pins.js'

/** A pinned kernel and whether the cache holds it, for `vitest-uml kernels list`. */
export interface KernelListing {
  name: string
  suite: string
  packageVersion: string
  isDefault: boolean
  /** Whose C libraries the kernel runs on. */
  libs: 'host' | 'pinned'
  installed: InstalledKernel | undefined
}

export async function getInstalledKernel(
  name: string,
  options: CacheOptions = {},
): Promise<InstalledKernel | undefined> {
  const pin = getKernelPin(name)
  const { cacheDir } = resolveCacheOptions(options)
  return readKernelEntry(kernelEntryDir(cacheDir, name, pin), name, pin)
}

export async function listKernels(options: CacheOptions = {}): Promise<KernelListing[]> {
  return Promise.all(
    KERNEL_NAMES.map(async (name) => {
      const pin = getKernelPin(name)
      return {
        name,
        suite: pin.suite,
        packageVersion: pin.deb.version,
        isDefault: name === DEFAULT_KERNEL,
        libs: pin.libs === undefined ? 'host' : 'pinned',
        installed: await getInstalledKernel(name, options),
      } satisfies KernelListing
    }),
  )
}
