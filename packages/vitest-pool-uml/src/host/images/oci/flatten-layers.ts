import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { type Readable, Transform } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import type { Header, Pack } from 'tar-stream'
import { UmlError } from '../../core/index.js'
import { loadExeca } from '../../core/load-execa.js'
import { normalizeArchivePath } from '../rootfs-index.js'
import type { ImageFailureCode } from '../run-tool.js'
import { type EmitAction, type LayerEntry, planLayers } from './layer-plan.js'
import type { LayerCompression } from './manifest-schema.js'

/** A layer blob on disk. */
export interface LayerFile {
  path: string
  compression: LayerCompression
  /** The digest of the uncompressed tar (the config's `diff_ids`), checked as it is read. */
  diffId?: string
}

/** An entry's content as tar-stream hands it out (a streamx stream). */
type EntryStream = { resume(): unknown; pipe(destination: NodeJS.WritableStream): unknown }

/** What an image's entries may be; anything else is left out, like device nodes. */
const ENTRY_TYPES: Record<string, LayerEntry['type']> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symlink',
  link: 'link',
  fifo: 'fifo',
}

/**
 * Writes the root file system that the layers make, applied in order (see planLayers), as one
 * plain tarball at `output`, which the image pipeline then checks and turns into ext4. Each layer
 * is decompressed once, into a plain copy beside `output`, while its entries are read and its
 * uncompressed digest checked; the entries are then copied from the plain copies. A single layer
 * that the plan writes as it is (most base images) is the output itself.
 */
export async function flattenLayers(layers: LayerFile[], output: string, failureCode: ImageFailureCode): Promise<void> {
  const entries: LayerEntry[][] = []
  const plain: LayerFile[] = layers.map((_, index) => ({ path: `${output}.layer-${index}`, compression: 'none' }))
  for (const [index, layer] of layers.entries()) {
    const list: LayerEntry[] = []
    const hash = createHash('sha256')
    await readLayer(layer, failureCode, index, { hash, copyTo: plain[index]!.path }, async (header, stream) => {
      list.push({
        name: header.name,
        type: ENTRY_TYPES[header.type ?? ''] ?? 'other',
        linkname: header.linkname ?? undefined,
      })
      stream.resume()
    })
    const actual = `sha256:${hash.digest('hex')}`
    if (layer.diffId && actual !== layer.diffId) {
      throw new UmlError(
        'UML_IMAGE_DIGEST_MISMATCH',
        `Layer ${index + 1} of the image unpacks to content with digest ${actual}, but the image's configuration says ${layer.diffId}: the layer was changed or damaged. Nothing was cached.`,
        { details: { layer: index + 1, expected: layer.diffId, actual } },
      )
    }
    entries.push(list)
  }
  const plan = planLayers(entries)
  if (plan.problems.length > 0) {
    throw new UmlError(
      failureCode,
      `The image's layers do not make a usable root file system: ${plan.problems.slice(0, 5).join('; ')}.`,
      { details: { problems: plan.problems } },
    )
  }
  if (layers.length === 1 && writesAsIs(entries[0]!, plan.emit[0]!)) {
    await rename(plain[0]!.path, output)
    return
  }
  const { pack } = await import('tar-stream')
  const packer = pack()
  const written = pipeline(packer, createWriteStream(output))
  written.catch(() => {})
  for (const [index, layer] of plain.entries()) {
    const actions = plan.emit[index]!
    let entry = 0
    await readLayer(layer, failureCode, index, {}, async (header, stream) => {
      const action = actions.get(entry++)
      if (!action) {
        stream.resume()
        return
      }
      await copyEntry(packer, header, action, stream)
    })
  }
  packer.finalize()
  await written
  for (const layer of plain) await rm(layer.path, { force: true })
}

/** Whether the plan writes every entry of a layer, unmoved and unchanged. */
function writesAsIs(entries: LayerEntry[], actions: Map<number, EmitAction>): boolean {
  return entries.every((entry, index) => {
    const action = actions.get(index)
    const linkname = entry.type === 'link' ? normalizeArchivePath(entry.linkname ?? '') : undefined
    return action?.name === normalizeArchivePath(entry.name) && action.linkname === linkname
  })
}

function copyEntry(packer: Pack, header: Header, action: EmitAction, stream: EntryStream): Promise<void> {
  const linked = action.linkname !== undefined
  const copy: Parameters<Pack['entry']>[0] = {
    name: action.name === '' ? './' : action.name,
    type: linked ? 'link' : header.type,
    mode: header.mode,
    uid: header.uid,
    gid: header.gid,
    uname: header.uname,
    gname: header.gname,
    mtime: header.mtime,
    size: linked || header.type !== 'file' ? 0 : header.size,
    ...(linked ? { linkname: action.linkname } : header.type === 'symlink' ? { linkname: header.linkname } : {}),
  }
  if (copy.type === 'contiguous-file') copy.type = 'file'
  return new Promise((resolve, reject) => {
    const sink = packer.entry(copy, (error) => (error ? reject(error) : resolve()))
    if (copy.size === 0) {
      stream.resume()
      sink.end(undefined)
    } else stream.pipe(sink as unknown as NodeJS.WritableStream)
  })
}

/**
 * Streams one layer's tar entries through `onEntry`; on the way, hashes the uncompressed bytes
 * and writes them to `copyTo` when asked.
 */
async function readLayer(
  layer: LayerFile,
  failureCode: ImageFailureCode,
  index: number,
  tap: { hash?: ReturnType<typeof createHash>; copyTo?: string },
  onEntry: (header: Header, stream: EntryStream) => Promise<void>,
): Promise<void> {
  const { extract } = await import('tar-stream')
  const extractor = extract()
  const source = await openLayer(layer)
  const copy = tap.copyTo ? createWriteStream(tap.copyTo) : undefined
  const copied = copy ? finished(copy) : Promise.resolve()
  copied.catch(() => {})
  const tapping = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      tap.hash?.update(chunk)
      if (copy && !copy.write(chunk)) copy.once('drain', () => callback(null, chunk))
      else callback(null, chunk)
    },
    flush(callback) {
      copy?.end()
      callback()
    },
  })
  const feeding = pipeline(source.stream, tapping, extractor)
  feeding.catch(() => {})
  try {
    for await (const entry of extractor) await onEntry(entry.header, entry)
    await feeding
    await source.done
    await copied
  } catch (cause) {
    if (cause instanceof UmlError) throw cause
    throw new UmlError(
      failureCode,
      `Layer ${index + 1} of the image is not a readable ${layer.compression === 'none' ? '' : `${layer.compression}-compressed `}tar archive (${(cause as Error).message}).`,
      { cause, details: { layer: index + 1, path: layer.path } },
    )
  }
}

/** Read and decompress in large chunks: with Node's defaults (64 and 16 KiB) it costs twice the CPU. */
const READ_CHUNK = { highWaterMark: 1 << 20 }
const GUNZIP_CHUNK = { chunkSize: 256 << 10 }

/** The uncompressed tar stream of a layer; zstd has no decoder in Node 20, so its own tool does it. */
async function openLayer(layer: LayerFile): Promise<{ stream: Readable; done: Promise<unknown> }> {
  if (layer.compression === 'none') return { stream: createReadStream(layer.path, READ_CHUNK), done: Promise.resolve() }
  if (layer.compression === 'gzip') {
    return {
      stream: createReadStream(layer.path, READ_CHUNK).pipe(createGunzip(GUNZIP_CHUNK)),
      done: Promise.resolve(),
    }
  }
  const { execa } = await loadExeca()
  const zstd = execa('zstd', ['--decompress', '--stdout', '--quiet', '--', layer.path], {
    buffer: false,
    stdin: 'ignore',
  })
  const done = zstd.catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new UmlError(
        'UML_HOST_TOOL_MISSING',
        'zstd is not installed, and vitest-uml needs it to unpack zstd-compressed image layers. Install it with: apt-get install zstd',
        { cause: error, details: { tool: 'zstd', package: 'zstd' } },
      )
    }
    throw error
  })
  done.catch(() => {})
  return { stream: zstd.stdout, done }
}
