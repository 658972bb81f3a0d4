import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { UmlError } from '../core/index.js'
import { IMAGE_FILE, METADATA_FILE } from './cache-layout.js'

export type ImageSource = 'recipe' | 'import' | 'derived' | 'oci'

/** A built image in the cache, ready to be used as a guest's read-only base disk. */
export interface InstalledImage {
  name: string
  /** The ext4 file. */
  path: string
  /** The cache entry holding it. */
  dir: string
  hash: string
  /** Fields of the image's own os-release(5), e.g. `ID`, `VERSION_CODENAME`. */
  osRelease: Record<string, string>
  source: ImageSource
  /** For an image pulled from a registry: the reference it was pulled by, and its manifest's digest. */
  ref?: string
  digest?: string
}

const metadataSchema = z.object({
  name: z.string(),
  hash: z.string(),
  source: z.enum(['recipe', 'import', 'derived', 'oci']),
  osRelease: z.record(z.string(), z.string()),
  ref: z.string().optional(),
  digest: z.string().optional(),
  createdAt: z.iso.datetime(),
})

export type ImageMetadata = z.infer<typeof metadataSchema>

export async function writeImageMetadata(dir: string, metadata: ImageMetadata): Promise<void> {
  await writeFile(join(dir, METADATA_FILE), `${JSON.stringify(metadata, null, 2)}\n`)
}

/** Reads a cache entry; anything missing or malformed means the entry is corrupt. */
export async function readInstalledImage(dir: string): Promise<{ image: InstalledImage; createdAt: string }> {
  const path = join(dir, IMAGE_FILE)
  let metadata: ImageMetadata
  try {
    metadata = metadataSchema.parse(JSON.parse(await readFile(join(dir, METADATA_FILE), 'utf8')))
    if (!(await stat(path)).isFile()) throw new Error(`${path} is not a file`)
  } catch (cause) {
    throw new UmlError(
      'UML_IMAGE_CORRUPT',
      `The cached image in ${dir} is damaged (${(cause as Error).message}). Remove it with \`vitest-uml images rm <name>\` and build or import it again.`,
      { cause, details: { dir } },
    )
  }
  const { name, hash, source, osRelease, createdAt, ref, digest } = metadata
  return {
    image: { name, path, dir, hash, osRelease, source, ...(ref && { ref }), ...(digest && { digest }) },
    createdAt,
  }
}
