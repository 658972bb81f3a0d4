import { stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { getCacheDir, type Progress, silentProgress, UmlError } from '@vitest-uml/core'
import { z } from 'zod'
import { fileSha256 } from './file-sha256.js'
import { importImageHash } from './image-hash.js'
import { IMAGE_NAME_PATTERN } from './image-names.js'
import { installImage } from './install-image.js'
import type { InstalledImage } from './installed-image.js'
import { toPlainTarball } from './plain-tarball.js'
import { listRecipes } from './recipes.js'
import { cacheDirSchema, progressSchema, validateOptions } from './validate-options.js'

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
 * example) into a cached image. Importing the same tarball again returns the existing image.
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
  const size = await tarballSize(tarball)
  const progress = parsed.progress ?? silentProgress
  progress.start(`checksum ${basename(tarball)}`, size)
  const sha256 = await fileSha256(tarball, (done) => progress.update(done))
  progress.end()
  return installImage({
    cacheDir: parsed.cacheDir ?? getCacheDir(),
    name: parsed.name,
    hash: importImageHash(sha256),
    source: 'import',
    progress,
    failureCode: 'UML_IMAGE_IMPORT_FAILED',
    origin: `The tarball ${tarball}`,
    async produceTarball(workDir) {
      try {
        return await toPlainTarball(tarball, join(workDir, 'rootfs.tar'))
      } catch (cause) {
        if (cause instanceof UmlError) throw cause
        throw new UmlError(
          'UML_IMAGE_IMPORT_FAILED',
          `Cannot decompress ${tarball}: ${(cause as Error).message}. Check that the file is intact.`,
          { cause, details: { tarball } },
        )
      }
    },
  })
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
    `${tarball} is not a file. Pass the path of a root file system tarball.`,
    {
      details: { tarball },
    },
  )
}
