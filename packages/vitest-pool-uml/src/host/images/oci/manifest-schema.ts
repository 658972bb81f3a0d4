import { z } from 'zod'

/** Media types of the documents an image is made of: OCI's and Docker's schema 2 equivalents. */
export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const

export const INDEX_MEDIA_TYPES: string[] = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]
export const MANIFEST_MEDIA_TYPES: string[] = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest]

/** How a layer blob is compressed, by its media type. */
export type LayerCompression = 'none' | 'gzip' | 'zstd'

const LAYER_COMPRESSION: Record<string, LayerCompression> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
}

export function layerCompression(mediaType: string): LayerCompression | undefined {
  return LAYER_COMPRESSION[mediaType]
}

export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/

const descriptorSchema = z.object({
  mediaType: z.string(),
  digest: z.string().regex(DIGEST_PATTERN, 'a sha256 digest'),
  size: z.number().int().nonnegative(),
  platform: z.object({ architecture: z.string(), os: z.string(), variant: z.string().optional() }).optional(),
})

export type Descriptor = z.infer<typeof descriptorSchema>

export const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
})

export const manifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
})

export type ImageIndex = z.infer<typeof indexSchema>
export type ImageManifest = z.infer<typeof manifestSchema>

/** The parts of the image configuration that decide whether a guest can use it. */
export const imageConfigSchema = z.object({
  architecture: z.string(),
  os: z.string(),
  rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(z.string().regex(DIGEST_PATTERN)) }),
})

export type ImageConfig = z.infer<typeof imageConfigSchema>

/** The only platform guests run: UML is built for x86_64 here. */
export const GUEST_PLATFORM = { os: 'linux', architecture: 'amd64' } as const
export const GUEST_PLATFORM_NAME = `${GUEST_PLATFORM.os}/${GUEST_PLATFORM.architecture}`
