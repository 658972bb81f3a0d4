import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { z } from 'zod'
import {
  cacheDirSchema,
  fileSha256,
  getCacheDir,
  type Progress,
  progressSchema,
  silentProgress,
  UmlError,
} from '../core/index.js'
import { importImageHash, ociImageHash } from './image-hash.js'
import { IMAGE_NAME_PATTERN } from './image-names.js'
import { installImage } from './install-image.js'
import type { InstalledImage } from './installed-image.js'
import { flattenLayers } from './oci/flatten-layers.js'
import { type ImageLayout, isImageArchive, isImageDirectory, readImageLayout } from './oci/image-layout.js'
import { toPlainTarball } from './plain-tarball.js'
import { listRecipes } from './recipes.js'
import { validateOptions } from './validate-options.js'

export interface ImportImageOptions {
  /** The image's name: lowercase letters, digits, `.`, `_`, `-`; not a recipe's name. */
  name: string
  /** Defaults to getCacheDir(). */
  cacheDir?: string
  progress?: Progress
}

const importOptionsSchema = z.object({
  name: z.string().regex(IMAGE_NAME_PATTERN, `a name matching ${IMAGE_NAME_PATTERN}`),
  cacheDir: cacheDirSchema.optional(),
  progress: progressSchema.optional(),
})

/**
 * Turns any root file system tarball (plain, gzip, xz or zstd; `docker export` output for
 * example), or a container image saved to disk (`docker save` output, an OCI image layout as a
 * directory or a tarball), into a cached image. Importing the same input again returns the
 * existing image.
 */
export async function importImage(tarPath: string, options: ImportImageOptions): Promise<InstalledImage> {
  const parsed = validateOptions(importOptionsSchema, options, 'importImage')
  const recipes = (await listRecipes()).map((recipe) => recipe.name)
  if (recipes.includes(parsed.name)) {
    throw new UmlError(
      'UML_INVALID_OPTIONS',
      `"${parsed.name}" is the name of a built-in image recipe; import under another name (recipes: ${recipes.join(', ')}).`,
      { details: { name: parsed.name } },
    )
  }
  const tarball = resolve(tarPath)
  const progress = parsed.progress ?? silentProgress
  const cacheDir = parsed.cacheDir ?? getCacheDir()
  if (await isImageDirectory(tarball)) {
    const layout = await readImageLayout(tarball, tarball)
    return installImage({
      cacheDir,
      name: parsed.name,
      hash: ociImageHash(layout.digest),
      source: 'import',
      progress,
      failureCode: 'UML_IMAGE_IMPORT_FAILED',
      origin: `The image in ${tarball}`,
      produceTarball: (workDir) => flattenImage(layout, workDir),
    })
  }
  const size = await tarballSize(tarball)
  progress.start(`checksum ${basename(tarball)}`, size)
  const sha256 = await fileSha256(tarball, (done) => progress.update(done))
  progress.end()
  return installImage({
    cacheDir,
    name: parsed.name,
    hash: importImageHash(sha256),
    source: 'import',
    progress,
    failureCode: 'UML_IMAGE_IMPORT_FAILED',
    origin: `The tarball ${tarball}`,
    async produceTarball(workDir) {
      let plain: string
      try {
        plain = await toPlainTarball(tarball, join(workDir, 'plain.tar'))
      } catch (cause) {
        if (cause instanceof UmlError) throw cause
        throw new UmlError(
          'UML_IMAGE_IMPORT_FAILED',
          `Cannot decompress ${tarball}: ${(cause as Error).message}. Check that the file is intact.`,
          { cause, details: { tarball } },
        )
      }
      if (!(await isImageArchive(plain))) return plain
      const unpacked = join(workDir, 'archive')
      // Only files and directories: an image archive needs nothing else, and a link could lead out.
      const ignore = (_name: string, header?: { type?: string | null }) =>
        header?.type !== 'file' && header?.type !== 'directory'
      const { extract } = await import('tar-fs')
      await pipeline(createReadStream(plain), extract(unpacked, { ignore, readable: true, writable: true }))
      return flattenImage(await readImageLayout(unpacked, tarball), workDir)
    },
  })
}

/** The root file system of an image read from disk, as a plain tarball in `workDir`. */
async function flattenImage(layout: ImageLayout, workDir: string): Promise<string> {
  const rootfs = join(workDir, 'rootfs.tar')
  await flattenLayers(layout.layers, rootfs, 'UML_IMAGE_IMPORT_FAILED')
  return rootfs
}

async function tarballSize(tarball: string): Promise<number> {
  try {
    const info = await stat(tarball)
    if (info.isFile()) return info.size
  } catch (cause) {
    throw new UmlError(
      'UML_IMAGE_IMPORT_FAILED',
      `Cannot read ${tarball}: ${(cause as Error).message}. Check the path.`,
      {
        cause,
        details: { tarball },
      },
    )
  }
  throw new UmlError(
    'UML_IMAGE_IMPORT_FAILED',
    `${tarball} is neither a file nor an image directory. Pass a root file system tarball, \`docker save\` output, or an OCI image layout.`,
    {
      details: { tarball },
    },
  )
}
