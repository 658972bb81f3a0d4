import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Headers } from 'tar-fs'
import { OS_RELEASE_PATHS as GUEST_OS_RELEASE_PATHS, parseOsRelease } from '../../shared/index.js'
import { normalizeArchivePath, type RootfsEntry, type RootfsIndex, resolveInRootfs } from './rootfs-index.js'

/** Where os-release(5) may live, as archive paths; only these files are extracted while scanning. */
const OS_RELEASE_PATHS = GUEST_OS_RELEASE_PATHS.map(normalizeArchivePath)

export interface RootfsScan {
  index: RootfsIndex
  osRelease: Record<string, string>
  /** Why this tarball is not a usable root file system; empty when it is. */
  problems: string[]
  /** Programs the guest's init and agent run that the root file system lacks. */
  missingTools: string[]
  /** What its files take at least on a file system of 4 KiB blocks. */
  dataBytes: number
}

/**
 * What the guest runs from the image itself: the init stub and the runtime's init scripts (a
 * shell, mount, mkdir). Everything else (Node, its libraries, the agent and the other guest
 * programs) comes from the host, so a userland with these runs the Vitest worker.
 */
export const GUEST_TOOLS = ['sh', 'mount', 'mkdir'] as const

/** Where the guest looks for them: init's PATH. */
const TOOL_DIRS = ['usr/sbin', 'usr/bin', 'sbin', 'bin']

const BLOCK_BYTES = 4096

/**
 * Reads a plain tarball once with tar-fs, which streams headers without unpacking everything:
 * indexes every entry, rejects paths that could land outside the root (absolute or with `..`),
 * checks that it is a root file system (has /bin/sh), adds up its files' sizes and pulls out
 * os-release. Only the os-release files are written, into `scratchDir`.
 */
export async function scanRootfs(tarPath: string, scratchDir: string): Promise<RootfsScan> {
  const index: RootfsIndex = new Map()
  const problems: string[] = []
  let dataBytes = 0
  const unsafe = (name: string) => name.startsWith('/') || name.split('/').includes('..')
  const ignore = (_target: string, header?: Headers) => {
    const { name, type, linkname, size } = header as Headers & { type: string; linkname?: string | null }
    if (type === 'file') dataBytes += Math.ceil((size ?? 0) / BLOCK_BYTES) * BLOCK_BYTES
    if (unsafe(name)) problems.push(`entry "${name}" points outside the root file system`)
    if (type === 'link' && linkname && unsafe(linkname)) problems.push(`hard link "${name}" points at "${linkname}"`)
    const path = normalizeArchivePath(name)
    index.set(path, toEntry(type, linkname ?? undefined))
    return !(type === 'file' && OS_RELEASE_PATHS.includes(path) && !unsafe(name))
  }
  try {
    const { extract } = await import('tar-fs')
    await pipeline(createReadStream(tarPath), extract(scratchDir, { ignore, readable: true, writable: true }))
  } catch (error) {
    return {
      index,
      osRelease: {},
      problems: [`it is not a readable tar archive (${(error as Error).message})`],
      missingTools: [],
      dataBytes,
    }
  }
  const isFile = (path: string) => index.get(resolveInRootfs(index, path) ?? '')?.type === 'file'
  if (!isFile('bin/sh')) problems.push('it has no /bin/sh')
  const missingTools = GUEST_TOOLS.filter((tool) => !TOOL_DIRS.some((dir) => isFile(`${dir}/${tool}`)))
  return { index, osRelease: await readOsRelease(index, scratchDir), problems, missingTools, dataBytes }
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
