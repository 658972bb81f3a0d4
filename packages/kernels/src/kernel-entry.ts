import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exists } from '@vitest-uml/core'
import { z } from 'zod'
import type { KernelPin } from './manifest-schema.js'

export const KERNEL_BINARY_NAME = 'linux'
export const KERNEL_METADATA_NAME = 'kernel.json'

export const kernelMetadataSchema = z.object({
  name: z.string(),
  /** The kernel release, as named by its modules dir ("7.2.7"). */
  release: z.string(),
  suite: z.string(),
  packageVersion: z.string(),
  supportsSeccomp: z.boolean(),
  /** Whose C libraries are in `lib/`: the host's, or the manifest's pinned ones. */
  libs: z.enum(['host', 'pinned']),
})

export type KernelMetadata = z.infer<typeof kernelMetadataSchema>

/** A prepared kernel in the cache, ready to bind-mount at SANDBOX_KERNEL_DIR. */
export interface InstalledKernel {
  name: string
  release: string
  /** The cache entry: `linux`, `lib/`, `modules/<release>/`, `kernel.json`. */
  dir: string
  /** `<dir>/linux`, patched to load its libraries from SANDBOX_KERNEL_LIB_DIR. */
  binary: string
  supportsSeccomp: boolean
  packageVersion: string
  suite: string
}

export function kernelEntryDir(cacheDir: string, name: string, pin: KernelPin): string {
  return join(cacheDir, 'kernels', `${name}-${pin.deb.version.replace(/[^A-Za-z0-9.-]/g, '_')}`)
}

/** The entry at `dir` if it is complete and holds the pinned kernel, else undefined. */
export async function readKernelEntry(dir: string, name: string, pin: KernelPin): Promise<InstalledKernel | undefined> {
  let metadata: KernelMetadata
  try {
    metadata = kernelMetadataSchema.parse(JSON.parse(await readFile(join(dir, KERNEL_METADATA_NAME), 'utf8')))
  } catch {
    return undefined
  }
  if (metadata.name !== name || metadata.packageVersion !== pin.deb.version) return undefined
  const binary = join(dir, KERNEL_BINARY_NAME)
  if (!(await exists(binary))) return undefined
  const { release, supportsSeccomp, packageVersion, suite } = metadata
  return { name, release, dir, binary, supportsSeccomp, packageVersion, suite }
}
