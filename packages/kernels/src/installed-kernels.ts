import { UmlError } from '@vitest-uml/core'
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

/** The prepared kernel `name`; an error telling how to fetch it when the cache lacks it. */
export async function resolveKernel(name: string, options: CacheOptions = {}): Promise<InstalledKernel> {
  const installed = await getInstalledKernel(name, options)
  if (installed) return installed
  throw new UmlError(
    'UML_KERNEL_NOT_FETCHED',
    `Kernel ${name} is not in the cache yet. Run \`vitest-uml kernels fetch ${name}\` first (it downloads and ` +
      'verifies the pinned Debian package once).',
    { details: { name, cacheDir: resolveCacheOptions(options).cacheDir } },
  )
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
