import { readdir, readFile, rm, rmdir } from 'node:fs/promises'
import { join } from 'node:path'

/** Cache entries sit at most this deep (images/<name>/<hash>); temporary ones beside them. */
const MAX_DEPTH = 3

/** How writeDirAtomically names the directory it builds an entry in, with its owner's pid. */
export function temporaryEntryName(entryName: string, pid: number, suffix: string): string {
  return `.${entryName}.tmp-${pid}-${suffix}`
}

const TEMPORARY_ENTRY = /^\..+\.tmp-(\d+)-[0-9a-f]+$/

/**
 * Removes the half-built cache entries of processes that died before finishing them (a run
 * killed with SIGKILL while it fetched a kernel or built an image), and parents left empty.
 * Entries of live processes are building and stay. Says what it removed on `stream`, and returns it.
 */
export async function removeAbandonedEntries(
  cacheDir: string,
  options: {
    /** Deletes one tree; image builds may leave trees that plain `rm` cannot delete. */
    remove?: (path: string) => Promise<void>
    stream?: NodeJS.WritableStream
  } = {},
): Promise<string[]> {
  const { remove = (path) => rm(path, { recursive: true, force: true }), stream = process.stderr } = options
  const removed: string[] = []
  const visit = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      if (!entry.isDirectory()) continue
      const path = join(dir, entry.name)
      const owner = TEMPORARY_ENTRY.exec(entry.name)?.[1]
      if (owner === undefined) {
        if (depth < MAX_DEPTH) await visit(path, depth + 1)
      } else if (!(await isAlive(Number(owner)))) {
        await remove(path)
        removed.push(path)
        if (dir !== cacheDir) await rmdir(dir).catch(() => {})
      }
    }
  }
  await visit(cacheDir, 1)
  if (removed.length > 0) {
    stream.write(
      `vitest-uml: removed what an earlier run left half-built when it was killed:\n${removed.map((path) => `  ${path}\n`).join('')}`,
    )
  }
  return removed
}

/** Whether a process runs; a zombie (killed, not yet reaped by its parent) does not. */
async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return !/^\d+ \(.*\) Z /.test(stat)
}
