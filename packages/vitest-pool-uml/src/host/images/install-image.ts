import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { exists, type Progress, UmlError, writeDirAtomically } from '../core/index.js'
import { IMAGE_FILE, imageEntryDir } from './cache-layout.js'
import { rootfsOwnerPrefix } from './id-mapping.js'
import { type ImageSource, type InstalledImage, readInstalledImage, writeImageMetadata } from './installed-image.js'
import { removeCacheTree } from './remove-tree.js'
import { scanRootfs } from './rootfs-scan.js'
import { IMAGE_BYTES, IMAGE_SIZE_TEXT, tarballToExt4 } from './rootfs-to-ext4.js'
import type { ImageFailureCode } from './run-tool.js'

const FIXES: Record<Exclude<ImageSource, 'derived'>, string> = {
  import: 'Import a tarball of a whole Linux root file system, such as `docker export` output.',
  recipe: "Check the recipe's packages and variant.",
  oci: 'Pull an image of a Linux distribution for linux/amd64.',
}

export interface InstallRequest {
  cacheDir: string
  name: string
  hash: string
  source: Exclude<ImageSource, 'derived'>
  /** For a pulled image: the reference and manifest digest to record. */
  ref?: string
  digest?: string
  progress: Progress
  failureCode: ImageFailureCode
  /** Where the root file system comes from, for messages: "the tarball /tmp/x.tar.gz". */
  origin: string
  /** Provides the root file system as a plain tarball, written under `workDir` or elsewhere. */
  produceTarball(workDir: string): Promise<string>
}

/**
 * The pipeline shared by recipe builds and imports: tarball → checked → ext4 image plus
 * metadata, assembled in a temporary directory and renamed into the cache in one step. An entry
 * that already exists is returned as is: its hash says it was made from the same inputs.
 */
export async function installImage(request: InstallRequest): Promise<InstalledImage> {
  const { cacheDir, name, hash, source, progress, failureCode } = request
  const entry = imageEntryDir(cacheDir, name, hash)
  if (await exists(entry)) return (await readInstalledImage(entry)).image
  const ownerPrefix = await rootfsOwnerPrefix(failureCode)
  await writeDirAtomically(entry, async (tempDir) => {
    const workDir = join(tempDir, 'work')
    await mkdir(workDir)
    try {
      const tarball = await request.produceTarball(workDir)
      progress.start(`image ${name}`)
      const scratchDir = join(workDir, 'scan')
      await mkdir(scratchDir)
      const scan = await scanRootfs(tarball, scratchDir)
      if (scan.problems.length > 0) {
        throw new UmlError(
          failureCode,
          `${request.origin} is not a usable root file system: ${scan.problems.slice(0, 5).join('; ')}. ${FIXES[source]}`,
          { details: { origin: request.origin, problems: scan.problems } },
        )
      }
      if (scan.missingTools.length > 0) {
        throw new UmlError(
          'UML_IMAGE_UNUSABLE',
          `${request.origin} lacks ${scan.missingTools.join(', ')}, which a guest runs from its own root file system (its init and the vitest-uml agent; Node and everything else come from the host). Use an image that has a shell and coreutils and util-linux, or busybox.`,
          { details: { origin: request.origin, missing: scan.missingTools } },
        )
      }
      // Refused before anything is unpacked: the tree would fill memory (a tmpfs) for nothing.
      if (scan.dataBytes > IMAGE_BYTES) {
        throw new UmlError(
          failureCode,
          `${request.origin} holds ${(scan.dataBytes / 1024 ** 3).toFixed(1)} GiB of files, and a guest's root file system must fit in ${IMAGE_SIZE_TEXT}. Use a smaller image.`,
          { details: { origin: request.origin, dataBytes: scan.dataBytes, limit: IMAGE_BYTES } },
        )
      }
      const imagePath = join(tempDir, IMAGE_FILE)
      await tarballToExt4({ tarball, index: scan.index, workDir, imagePath, ownerPrefix, failureCode })
      await writeImageMetadata(tempDir, {
        name,
        hash,
        source,
        ...(request.ref && { ref: request.ref }),
        ...(request.digest && { digest: request.digest }),
        osRelease: scan.osRelease,
        createdAt: new Date().toISOString(),
      })
      progress.end(scan.osRelease.PRETTY_NAME)
    } finally {
      await removeCacheTree(workDir)
    }
  })
  return (await readInstalledImage(entry)).image
}
