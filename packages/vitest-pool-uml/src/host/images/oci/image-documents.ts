import { readFile } from 'node:fs/promises'
import { describeIssues, UmlError } from '../../core/index.js'
import type { ImageFailureCode } from '../run-tool.js'
import {
  type Descriptor,
  GUEST_PLATFORM,
  GUEST_PLATFORM_NAME,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  imageConfigSchema,
  indexSchema,
  layerCompression,
  manifestSchema,
} from './manifest-schema.js'

export type ImageDocument = ({ kind: 'index' } & ImageIndex) | ({ kind: 'manifest' } & ImageManifest)

/** An index (several platforms) or an image manifest, told apart by their fields. */
export function parseImageDocument(
  body: Buffer | string,
  key: string,
  failureCode: ImageFailureCode = 'UML_IMAGE_PULL_FAILED',
): ImageDocument {
  let json: { manifests?: unknown; schemaVersion?: unknown }
  try {
    json = JSON.parse(body.toString())
  } catch (cause) {
    throw new UmlError(failureCode, `The manifest of ${key} is not JSON. The registry or archive is at fault.`, {
      cause,
      details: { ref: key },
    })
  }
  if (json.schemaVersion === 1) {
    throw new UmlError(
      failureCode,
      `${key} has a Docker schema 1 manifest, a format retired in 2019 that vitest-uml does not read. Push the image again with a current tool.`,
      { details: { ref: key } },
    )
  }
  const isIndex = Array.isArray(json.manifests)
  const parsed = (isIndex ? indexSchema : manifestSchema).safeParse(json)
  if (!parsed.success) {
    const issues = describeIssues(parsed.error.issues).join('; ')
    throw new UmlError(failureCode, `The ${isIndex ? 'index' : 'manifest'} of ${key} is malformed (${issues}).`, {
      details: { ref: key, issues: parsed.error.issues },
    })
  }
  return isIndex
    ? { kind: 'index', ...(parsed.data as ImageIndex) }
    : { kind: 'manifest', ...(parsed.data as ImageManifest) }
}

/** The linux/amd64 manifest of an index; guests run nothing else. */
export function selectPlatform(index: ImageIndex, key: string): Descriptor {
  const found = index.manifests.find(
    (entry) => entry.platform?.os === GUEST_PLATFORM.os && entry.platform.architecture === GUEST_PLATFORM.architecture,
  )
  if (found) return found
  const offered = index.manifests
    .map(
      (entry) =>
        entry.platform &&
        `${entry.platform.os}/${entry.platform.architecture}${entry.platform.variant ? `/${entry.platform.variant}` : ''}`,
    )
    .filter((platform) => platform && platform !== 'unknown/unknown')
  throw platformMissing(key, offered.length > 0 ? offered.join(', ') : 'no platform')
}

function platformMissing(key: string, offered: string): UmlError {
  return new UmlError(
    'UML_IMAGE_PLATFORM_MISSING',
    `${key} has no ${GUEST_PLATFORM_NAME} image (it offers ${offered}), and guests run ${GUEST_PLATFORM_NAME} only. Use an image built for ${GUEST_PLATFORM_NAME}.`,
    { details: { ref: key, offered } },
  )
}

/** Checks that every layer is a tar vitest-uml can unpack: plain, gzip or zstd. */
export function checkLayerMediaTypes(manifest: ImageManifest, key: string, failureCode: ImageFailureCode): void {
  const unknown = manifest.layers.find((layer) => layerCompression(layer.mediaType) === undefined)
  if (unknown) {
    throw new UmlError(
      failureCode,
      `${key} has a layer of media type ${unknown.mediaType}, which is not a tar layer vitest-uml can unpack (plain, gzip or zstd).`,
      { details: { ref: key, mediaType: unknown.mediaType } },
    )
  }
}

/**
 * Reads the image configuration (already checked against its digest) and checks that a guest can
 * use the image: linux/amd64, one diff id per layer.
 */
export async function checkImageConfig(
  configPath: string,
  layerCount: number,
  key: string,
  failureCode: ImageFailureCode,
): Promise<ImageConfig> {
  const parsed = imageConfigSchema.safeParse(JSON.parse(await readFile(configPath, 'utf8').catch(() => 'null')))
  if (!parsed.success) {
    throw new UmlError(
      failureCode,
      `The configuration of ${key} is not an image configuration. The image is damaged.`,
      {
        details: { ref: key, issues: parsed.error.issues },
      },
    )
  }
  const config = parsed.data
  if (config.os !== GUEST_PLATFORM.os || config.architecture !== GUEST_PLATFORM.architecture) {
    throw platformMissing(key, `${config.os}/${config.architecture}`)
  }
  if (config.rootfs.diff_ids.length !== layerCount) {
    throw new UmlError(
      failureCode,
      `${key} lists ${layerCount} layers but its configuration ${config.rootfs.diff_ids.length}. The image is damaged.`,
      { details: { ref: key } },
    )
  }
  return config
}
