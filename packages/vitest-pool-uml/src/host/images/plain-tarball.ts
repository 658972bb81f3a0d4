import { createReadStream, createWriteStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import { UmlError } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'

type Compression = 'none' | 'gzip' | 'xz' | 'zstd'

/** xz and zstd have no decoder in Node 20's standard library, so their own tools do it. */
const DECOMPRESSORS = {
  xz: { command: 'xz', package: 'xz-utils' },
  zstd: { command: 'zstd', package: 'zstd' },
} as const

/**
 * Returns a path to an uncompressed copy of `tarball` (the tarball itself when it is plain).
 * Decompressed once up front because the tarball is read twice: scanned, then extracted.
 * The format is told by magic bytes, not by the file name.
 */
export async function toPlainTarball(tarball: string, output: string): Promise<string> {
  const compression = await detectCompression(tarball)
  if (compression === 'none') return tarball
  if (compression === 'gzip') {
    await pipeline(createReadStream(tarball), createGunzip(), createWriteStream(output))
    return output
  }
  const { command, package: pkg } = DECOMPRESSORS[compression]
  try {
    const { execa } = await loadExeca()
    await execa(command, ['--decompress', '--stdout', tarball], { stdout: { file: output }, stderr: 'pipe' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UmlError(
        'UML_HOST_TOOL_MISSING',
        `${command} is not installed, and vitest-uml needs it to read ${tarball}. Install it with: apt-get install ${pkg}`,
        { cause: error, details: { tool: command, package: pkg } },
      )
    }
    throw error
  }
  return output
}

async function detectCompression(path: string): Promise<Compression> {
  const file = await open(path)
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(6), 0, 6, 0)
    const head = buffer.subarray(0, bytesRead)
    if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
    if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz'
    if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd'
    return 'none'
  } finally {
    await file.close()
  }
}
