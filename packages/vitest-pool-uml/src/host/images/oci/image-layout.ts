import { createReadStream } from 'node:fs'
import { open, readFile, realpath } from 'node:fs/promises'
import { join, sep } from 'node:path'
import { exists, fileSha256, UmlError } from '../../core/index.js'
import { normalizeArchivePath } from '../rootfs-index.js'
import type { LayerFile } from './flatten-layers.js'
import { checkImageConfig, checkLayerMediaTypes, parseImageDocument, selectPlatform } from './image-documents.js'
import { DIGEST_PATTERN, type LayerCompression, layerCompression } from './manifest-schema.js'

/** An image on disk, checked and ready to flatten. */
export interface ImageLayout {
  /** What identifies it: the manifest's digest, or (a `docker save` archive of old) its config's. */
  digest: string
  layers: LayerFile[]
}

const FAILURE = 'UML_IMAGE_IMPORT_FAILED'

/**
 * Whether a plain tarball holds an image (an OCI layout, or `docker save` output) rather than a
 * root file system: their top levels differ at once, so reading stops at the first telling entry.
 */
export async function isImageArchive(tarball: string): Promise<boolean> {
  const { extract } = await import('tar-stream')
  const extractor = extract()
  const input = createReadStream(tarball)
  input.pipe(extractor as unknown as NodeJS.WritableStream)
  try {
    for await (const entry of extractor) {
      const top = normalizeArchivePath(entry.header.name)
      if (top === 'oci-layout' || top === 'manifest.json' || top === 'index.json') return true
      if (/^(bin|etc|usr|lib|sbin|var)(\/|$)/.test(top)) return false
      entry.resume()
    }
    return false
  } catch {
    return false
  } finally {
    input.destroy()
    extractor.destroy()
  }
}

/** Whether a directory is an OCI layout or an unpacked `docker save` archive. */
export async function isImageDirectory(dir: string): Promise<boolean> {
  return (await exists(join(dir, 'oci-layout'))) || (await exists(join(dir, 'manifest.json')))
}

/**
 * Reads an OCI image layout (`oci-layout`, `index.json`, `blobs/`), or a `docker save` archive of
 * the older kind (`manifest.json` naming a config and layer tars), unpacked in `dir`: picks the
 * linux/amd64 image and checks every blob it uses against its digest (old `docker save` layers,
 * which have none, against the config's diff ids as they are unpacked).
 */
export async function readImageLayout(dir: string, label: string): Promise<ImageLayout> {
  if ((await exists(join(dir, 'oci-layout'))) && (await exists(join(dir, 'index.json')))) {
    return readOciLayout(dir, label)
  }
  if (await exists(join(dir, 'manifest.json'))) return readDockerArchive(dir, label)
  throw new UmlError(FAILURE, `${label} is neither an OCI image layout nor a \`docker save\` archive.`, {
    details: { ref: label },
  })
}

async function readOciLayout(dir: string, label: string): Promise<ImageLayout> {
  const index = parseImageDocument(await readFile(join(dir, 'index.json')), label, FAILURE)
  if (index.kind !== 'index') throw malformed(label, 'its index.json is not an image index')
  let descriptor = index.manifests.length === 1 ? index.manifests[0]! : selectPlatform(index, label)
  let manifest = parseImageDocument(await readBlob(dir, descriptor.digest, label), label, FAILURE)
  if (manifest.kind === 'index') {
    descriptor = selectPlatform(manifest, label)
    manifest = parseImageDocument(await readBlob(dir, descriptor.digest, label), label, FAILURE)
  }
  if (manifest.kind !== 'manifest') throw malformed(label, `${descriptor.digest} is not an image manifest`)
  const configPath = await blobPath(dir, manifest.config.digest, label)
  await verifyBlob(configPath, manifest.config.digest, label)
  checkLayerMediaTypes(manifest, label, FAILURE)
  const config = await checkImageConfig(configPath, manifest.layers.length, label, FAILURE)
  const layers: LayerFile[] = []
  for (const [index, layer] of manifest.layers.entries()) {
    const path = await blobPath(dir, layer.digest, label)
    await verifyBlob(path, layer.digest, label)
    layers.push({ path, compression: layerCompression(layer.mediaType)!, diffId: config.rootfs.diff_ids[index]! })
  }
  return { digest: descriptor.digest, layers }
}

async function readDockerArchive(dir: string, label: string): Promise<ImageLayout> {
  let entries: Array<{ Config?: unknown; Layers?: unknown }>
  try {
    entries = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8'))
  } catch (cause) {
    throw malformed(label, `its manifest.json is not JSON (${(cause as Error).message})`)
  }
  const [entry] = Array.isArray(entries) ? entries : []
  if (typeof entry?.Config !== 'string' || !Array.isArray(entry.Layers)) {
    throw malformed(label, 'its manifest.json names no config and layers')
  }
  const configPath = await insidePath(dir, entry.Config, label)
  // The config's file name is its digest (`<hex>.json`, or `blobs/sha256/<hex>`).
  const hex = /([a-f0-9]{64})(\.json)?$/.exec(entry.Config)?.[1]
  if (!hex) throw malformed(label, `its config ${entry.Config} is not named by its digest`)
  const digest = `sha256:${hex}`
  await verifyBlob(configPath, digest, label)
  const config = await checkImageConfig(configPath, entry.Layers.length, label, FAILURE)
  const layers: LayerFile[] = []
  for (const [index, layer] of (entry.Layers as unknown[]).entries()) {
    if (typeof layer !== 'string') throw malformed(label, 'its manifest.json lists a layer that is not a path')
    const path = await insidePath(dir, layer, label)
    layers.push({ path, compression: await sniffCompression(path), diffId: config.rootfs.diff_ids[index]! })
  }
  return { digest, layers }
}

async function blobPath(dir: string, digest: string, label: string): Promise<string> {
  if (!DIGEST_PATTERN.test(digest)) throw malformed(label, `${digest} is not a sha256 digest`)
  return insidePath(dir, join('blobs', 'sha256', digest.slice('sha256:'.length)), label)
}

/** A path the archive names, which must stay inside it, also through symlinks. */
async function insidePath(dir: string, relative: string, label: string): Promise<string> {
  const root = await realpath(dir)
  const path = await realpath(join(dir, relative)).catch(() => {
    throw malformed(label, `it lacks ${relative}`)
  })
  if (!path.startsWith(root + sep)) throw malformed(label, `${relative} points outside it`)
  return path
}

async function readBlob(dir: string, digest: string, label: string): Promise<Buffer> {
  const path = await blobPath(dir, digest, label)
  await verifyBlob(path, digest, label)
  return readFile(path)
}

async function verifyBlob(path: string, digest: string, label: string): Promise<void> {
  const actual = `sha256:${await fileSha256(path, () => {})}`
  if (actual !== digest) {
    throw new UmlError(
      'UML_IMAGE_DIGEST_MISMATCH',
      `The blob ${digest} of ${label} has digest ${actual}: the archive was changed or damaged. Nothing was cached.`,
      { details: { ref: label, expected: digest, actual } },
    )
  }
}

async function sniffCompression(path: string): Promise<LayerCompression> {
  const file = await open(path)
  try {
    const { buffer } = await file.read(Buffer.alloc(4), 0, 4, 0)
    if (buffer[0] === 0x1f && buffer[1] === 0x8b) return 'gzip'
    if (buffer.equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd'
    return 'none'
  } finally {
    await file.close()
  }
}

function malformed(label: string, why: string): UmlError {
  return new UmlError(FAILURE, `${label} is not a usable image archive: ${why}.`, { details: { ref: label } })
}
