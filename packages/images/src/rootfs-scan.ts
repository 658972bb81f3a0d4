import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { extract, type Headers } from 'tar-fs'
import { parseOsRelease } from './os-release.js'
import { normalizeArchivePath, type RootfsEntry, type RootfsIndex, resolveInRootfs } from './rootfs-index.js'

/** Where os-release(5) may live; only these files are extracted while scanning. */
const OS_RELEASE_PATHS = ['etc/os-release', 'usr/lib/os-release']

export interface RootfsScan {
  index: RootfsIndex
  osRelease: Record<string, string>
  /** Why this tarball is not a usable root file system; empty when it is. */
  problems: string[]
}

/**
 * Reads a plain tarball once with tar-fs, which streams headers without unpacking everything:
 * indexes every entry, rejects paths that could land outside the root (absolute or with `..`),
 * checks that it is a root file system (has /bin/sh) and pulls out os-release. Only the
 * os-release files are written, into `scratchDir`.
 */
export async function scanRootfs(tarPath: string, scratchDir: string): Promise<RootfsScan> {
  const index: RootfsIndex = new Map()
  const problems: string[] = []
  const unsafe = (name: string) => name.startsWith('/') || name.split('/').includes('..')
  const ignore = (_target: string, header?: Headers) => {
    const { name, type, linkname } = header as Headers & { type: string; linkname?: string | null }
    if (unsafe(name)) problems.push(`entry "${name}" points outside the root file system`)
    if (type === 'link' && linkname && unsafe(linkname)) problems.push(`hard link "${name}" points at "${linkname}"`)
    const path = normalizeArchivePath(name)
    index.set(path, toEntry(type, linkname ?? undefined))
    return !(type === 'file' && OS_RELEASE_PATHS.includes(path) && !unsafe(name))
  }
  try {
    await pipeline(createReadStream(tarPath), extract(scratchDir, { ignore, readable: true, writable: true }))
  } catch (error) {
    return { index, osRelease: {}, problems: [`it is not a readable tar archive (${(error as Error).message})`] }
  }
  const shell = index.get(resolveInRootfs(index, 'bin/sh') ?? '')
  if (shell?.type !== 'file') problems.push('it has no /bin/sh')
  return { index, osRelease: await readOsRelease(index, scratchDir), problems }
}

function toEntry(type: string, linkname: string | undefined): RootfsEntry {
  const known = type === 'file' || type === 'link' || type === 'symlink' || type === 'directory'
  return known && linkname ? { type, linkname } : { type: known ? type : 'other' }
}

async function readOsRelease(index: RootfsIndex, scratchDir: string): Promise<Record<string, string>> {
  for (const candidate of OS_RELEASE_PATHS) {
    const path = resolveInRootfs(index, candidate)
    if (path === undefined || !OS_RELEASE_PATHS.includes(path)) continue
    try {
      return parseOsRelease(await readFile(join(scratchDir, path), 'utf8'))
    } catch {}
  }
  return {}
}
