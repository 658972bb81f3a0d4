import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { execa } from 'execa'
import { pack } from 'tar-stream'

/** One entry of a hand-made layer: a file (with content), directory, symlink or hard link. */
export interface LayerEntrySpec {
  name: string
  type?: 'file' | 'directory' | 'symlink' | 'link'
  content?: string | Buffer
  linkname?: string
  mode?: number
  uid?: number
  gid?: number
}

/** A plain tar of exactly these entries, in this order (whiteouts are files named `.wh.<name>`). */
export async function tarOf(entries: LayerEntrySpec[]): Promise<Buffer> {
  const packer = pack()
  for (const entry of entries) {
    const type = entry.type ?? 'file'
    const content = Buffer.from(entry.content ?? '')
    packer.entry(
      {
        name: entry.name,
        type,
        mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
        uid: entry.uid ?? 0,
        gid: entry.gid ?? 0,
        mtime: new Date(0),
        ...(entry.linkname !== undefined && { linkname: entry.linkname }),
      },
      type === 'file' ? content : '',
    )
  }
  packer.finalize()
  const chunks: Buffer[] = []
  for await (const chunk of packer) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** A plain tar of a directory tree, owners as they are (numeric). */
export async function tarOfDirectory(dir: string): Promise<Buffer> {
  const { stdout } = await execa('tar', ['--create', '--numeric-owner', `--directory=${dir}`, '.'], {
    encoding: 'buffer',
    maxBuffer: 1024 ** 3,
  })
  return Buffer.from(stdout)
}

export interface OciImageSpec {
  /** Uncompressed layer tars, lowest first. */
  layers: Buffer[]
  architecture?: string
  /** Also wrap the manifest in an index (as multi-platform images are). */
  index?: boolean
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`

/**
 * Writes an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/...`) holding one image
 * under `tag`: gzip layers, a config with their diff ids, a manifest, and optionally an index.
 */
export async function writeOciLayout(
  dir: string,
  tag: string,
  spec: OciImageSpec,
): Promise<{ manifestDigest: string; layerDigests: string[] }> {
  const blobs = join(dir, 'blobs', 'sha256')
  await mkdir(blobs, { recursive: true })
  const put = async (data: Buffer, mediaType: string, extra: object = {}) => {
    const digest = sha256(data)
    await writeFile(join(blobs, digest.slice(7)), data)
    return { mediaType, digest, size: data.length, ...extra }
  }
  const architecture = spec.architecture ?? 'amd64'
  const layers = await Promise.all(
    spec.layers.map((tar) => put(gzipSync(tar, { level: 1 }), 'application/vnd.oci.image.layer.v1.tar+gzip')),
  )
  const config = await put(
    Buffer.from(
      JSON.stringify({
        architecture,
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: spec.layers.map(sha256) },
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  )
  const manifestJson = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers }
  const manifest = await put(Buffer.from(JSON.stringify(manifestJson)), manifestJson.mediaType, {
    platform: { os: 'linux', architecture },
  })
  let top: object = manifest
  if (spec.index) {
    const indexJson = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [manifest] }
    top = await put(Buffer.from(JSON.stringify(indexJson)), indexJson.mediaType)
  }
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  )
  return { manifestDigest: manifest.digest, layerDigests: layers.map((layer) => layer.digest) }
}
