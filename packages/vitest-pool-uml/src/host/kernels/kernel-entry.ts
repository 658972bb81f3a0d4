import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { exists } from '../core/index.js'
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
  /** Built with CONFIG_UML_TIME_TRAVEL_SUPPORT (none of Debian's kernels is). */
  supportsTimeTravel: z.boolean().default(false),
  /** Whose C libraries are in `lib/`: the host's, or the manifest's pinned ones. */
  libs: z.enum(['host', 'pinned']),
  /** Set for kernels built from source by vitest-uml. */
  built: z
    .object({
      /** Where the source came from: a Debian package and version, a URL or a path. */
      source: z.string(),
      /** The recipe hash, which names the cache entry. */
      hash: z.string(),
      builtAt: z.string(),
    })
    .optional(),
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
  supportsTimeTravel: boolean
  packageVersion: string
  suite: string
  /** For kernels built from source: where it came from and when. */
  built?: KernelMetadata['built']
}

export function kernelEntryDir(cacheDir: string, name: string, pin: KernelPin): string {
  return join(cacheDir, 'kernels', `${name}-${pin.deb.version.replace(/[^A-Za-z0-9.-]/g, '_')}`)
}

/** The entry at `dir` if it is complete and holds the pinned kernel, else undefined. */
export async function readKernelEntry(dir: string, name: string, pin: KernelPin): Promise<InstalledKernel | undefined> {
  const metadata = await readKernelMetadata(dir)
  if (!metadata || metadata.name !== name || metadata.packageVersion !== pin.deb.version) return undefined
  if (!(await exists(join(dir, KERNEL_BINARY_NAME)))) return undefined
  return installedKernel(dir, metadata)
}

/** The kernel a complete entry holds, from its metadata. */
export function installedKernel(dir: string, metadata: KernelMetadata): InstalledKernel {
  const { name, release, supportsSeccomp, supportsTimeTravel, packageVersion, suite, built } = metadata
  const binary = join(dir, KERNEL_BINARY_NAME)
  return {
    name,
    release,
    dir,
    binary,
    supportsSeccomp,
    supportsTimeTravel,
    packageVersion,
    suite,
    ...(built && { built }),
  }
}

export async function writeKernelMetadata(dir: string, metadata: KernelMetadata): Promise<void> {
  await writeFile(join(dir, KERNEL_METADATA_NAME), `${JSON.stringify(metadata, null, 2)}\n`)
}

/** The metadata of the entry at `dir`, or undefined when it has none that parses. */
export async function readKernelMetadata(dir: string): Promise<KernelMetadata | undefined> {
  try {
    return kernelMetadataSchema.parse(JSON.parse(await readFile(join(dir, KERNEL_METADATA_NAME), 'utf8')))
  } catch {
    return undefined
  }
}
