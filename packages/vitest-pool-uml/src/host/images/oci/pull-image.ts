import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import {
  cacheDirSchema,
  exists,
  getCacheDir,
  type Progress,
  progressSchema,
  silentProgress,
  UmlError,
} from '../../core/index.js'
import { imageEntryDir } from '../cache-layout.js'
import { ociImageHash } from '../image-hash.js'
import { installImage } from '../install-image.js'
import { type InstalledImage, readInstalledImage } from '../installed-image.js'
import { validateOptions } from '../validate-options.js'
import { flattenLayers } from './flatten-layers.js'
import { checkImageConfig, checkLayerMediaTypes, parseImageDocument, selectPlatform } from './image-documents.js'
import { formatImageRef, type ImageRef, parseImageRef, repositoryDirName } from './image-ref.js'
import { type LockEntry, readLockFile, writeLockEntry } from './lock-file.js'
import { GUEST_PLATFORM_NAME, layerCompression } from './manifest-schema.js'
import { RegistryClient } from './registry-client.js'

export interface PullImageOptions {
  /** Defaults to getCacheDir(). */
  cacheDir?: string
  /** Where the reference's pin is read from and recorded; without one, tags resolve at every pull. */
  lockFile?: string
  /** Resolve the tag again although the lock file pins it, and record the new pin. */
  update?: boolean
  /** Refuse a tag the lock file does not pin (CI: the lock file is what was reviewed). */
  frozen?: boolean
  progress?: Progress
}

const pullOptionsSchema = z.object({
  cacheDir: cacheDirSchema.optional(),
  lockFile: z.string().startsWith('/', 'an absolute path').optional(),
  update: z.boolean().optional(),
  frozen: z.boolean().optional(),
  progress: progressSchema.optional(),
})

/** Layer downloads at once: enough to fill a link, few enough not to be throttled. */
const PARALLEL_DOWNLOADS = 3

/**
 * Makes the image a registry reference names ready to boot: `docker.io/library/alpine:3.21`,
 * `ghcr.io/owner/img@sha256:...`, `localhost:5000/name:tag`. A tag resolves to a digest once and
 * is pinned in the lock file; later pulls use the pinned manifest, and when the cache has its
 * image they need no network at all. Cache entries are keyed by the linux/amd64 manifest's digest.
 */
export async function pullImage(refText: string, options: PullImageOptions = {}): Promise<InstalledImage> {
  const parsed = validateOptions(pullOptionsSchema, options, 'pullImage')
  const ref = parseImageRef(refText)
  const cacheDir = parsed.cacheDir ?? getCacheDir()
  // The cells of a matrix that share an image pull it once.
  const id = JSON.stringify([formatImageRef(ref), cacheDir, parsed.lockFile, parsed.update])
  let pulling = pullsUnderWay.get(id)
  if (!pulling) {
    pulling = pull(ref, cacheDir, parsed)
    pullsUnderWay.set(id, pulling)
    void pulling.finally(() => pullsUnderWay.delete(id)).catch(() => {})
  }
  return pulling
}

const pullsUnderWay = new Map<string, Promise<InstalledImage>>()

async function pull(
  ref: ImageRef,
  cacheDir: string,
  parsed: z.output<typeof pullOptionsSchema>,
): Promise<InstalledImage> {
  const key = formatImageRef(ref)
  const progress = parsed.progress ?? silentProgress
  const lockFile = parsed.lockFile
  const pinned = lockFile && !parsed.update ? (await readLockFile(lockFile)).images[key] : undefined
  if (!pinned && parsed.frozen && !ref.digest) {
    throw new UmlError(
      'UML_IMAGE_NOT_PINNED',
      `The image ${key} is not pinned in ${lockFile ?? 'a lock file'}, and tags are not resolved in CI. Run \`vitest-uml images pull ${key}\` where the lock file lives and commit it, or use a digest (${key.replace(/:[^/:]+$/, '')}@sha256:...).`,
      { details: { ref: key, lockFile } },
    )
  }
  if (pinned) {
    const entry = imageEntryDir(cacheDir, repositoryDirName(ref), ociImageHash(pinned.manifest))
    if (await exists(entry)) return (await readInstalledImage(entry)).image
  }
  const client = new RegistryClient(ref)
  const { pin, manifest } = await resolveManifest(client, ref, pinned)
  const image = await installImage({
    cacheDir,
    name: repositoryDirName(ref),
    hash: ociImageHash(pin.manifest),
    source: 'oci',
    ref: key,
    digest: pin.manifest,
    progress,
    failureCode: 'UML_IMAGE_PULL_FAILED',
    origin: `The image ${key}`,
    async produceTarball(workDir) {
      const blobs = join(workDir, 'blobs')
      await mkdir(blobs)
      const configPath = join(blobs, 'config')
      await client.downloadBlob(manifest.config.digest, manifest.config.size, configPath, () => {})
      checkLayerMediaTypes(manifest, key, 'UML_IMAGE_PULL_FAILED')
      const config = await checkImageConfig(configPath, manifest.layers.length, key, 'UML_IMAGE_PULL_FAILED')
      const total = manifest.layers.reduce((sum, layer) => sum + layer.size, 0)
      let done = 0
      progress.start(`pull ${key}`, total)
      const layers = manifest.layers.map((layer, index) => ({
        path: join(blobs, `layer-${index}`),
        compression: layerCompression(layer.mediaType)!,
        diffId: config.rootfs.diff_ids[index]!,
      }))
      const queue = manifest.layers.map((layer, index) => ({ layer, path: layers[index]!.path }))
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          await client.downloadBlob(next.layer.digest, next.layer.size, next.path, (bytes) => {
            done += bytes
            progress.update(done)
          })
        }
      }
      await Promise.all(Array.from({ length: PARALLEL_DOWNLOADS }, worker))
      progress.end(`${manifest.layers.length} layer(s), ${(total / 1024 / 1024).toFixed(1)} MiB`)
      const tarball = join(workDir, 'rootfs.tar')
      await flattenLayers(layers, tarball, 'UML_IMAGE_PULL_FAILED')
      return tarball
    },
  })
  if (lockFile && (pinned?.manifest !== pin.manifest || pinned.digest !== pin.digest)) {
    await writeLockEntry(lockFile, key, pin)
  }
  return image
}

/** The manifest to pull: the pinned one, or the one for linux/amd64 of what the reference names now. */
async function resolveManifest(
  client: RegistryClient,
  ref: ImageRef,
  pinned: LockEntry | undefined,
): Promise<{ pin: LockEntry; manifest: ReturnType<typeof parseImageDocument> & { kind: 'manifest' } }> {
  const key = formatImageRef(ref)
  if (pinned) {
    const document = parseImageDocument((await client.fetchManifest(pinned.manifest)).body, key)
    if (document.kind !== 'manifest') throw notAManifest(key, pinned.manifest)
    return { pin: pinned, manifest: document }
  }
  const top = await client.fetchManifest(ref.digest ?? ref.tag!)
  const document = parseImageDocument(top.body, key)
  if (document.kind === 'manifest') {
    return { pin: { digest: top.digest, platform: GUEST_PLATFORM_NAME, manifest: top.digest }, manifest: document }
  }
  const chosen = selectPlatform(document, key)
  const manifest = parseImageDocument((await client.fetchManifest(chosen.digest)).body, key)
  if (manifest.kind !== 'manifest') throw notAManifest(key, chosen.digest)
  return { pin: { digest: top.digest, platform: GUEST_PLATFORM_NAME, manifest: chosen.digest }, manifest }
}

function notAManifest(key: string, digest: string): UmlError {
  return new UmlError(
    'UML_IMAGE_PULL_FAILED',
    `${digest} of ${key} is an index of indexes, not an image manifest. Pull an image of one platform.`,
    { details: { ref: key, digest } },
  )
}
