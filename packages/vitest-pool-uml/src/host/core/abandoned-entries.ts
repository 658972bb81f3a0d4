import { createHash } from 'node:crypto'
import { readFileSync, readlinkSync } from 'node:fs'
import { readdir, readFile, rmdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { removeTree } from './remove-tree.js'

/** Cache entries sit at most this deep (images/<name>/<hash>); temporary ones beside them. */
const MAX_DEPTH = 3

/**
 * Which pid namespace (on which boot of which machine) a pid belongs to: a cache shared with
 * another container or machine holds temporary entries whose pids mean nothing here.
 */
const PID_SPACE = createHash('sha256')
  .update(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'))
  .update(readlinkSync('/proc/self/ns/pid'))
  .digest('hex')
  .slice(0, 8)

/** How writeDirAtomically names the directory it builds an entry in: its owner's pid, and where that pid lives. */
export function temporaryEntryName(entryName: string, pid: number, suffix: string): string {
  return `.${entryName}.tmp-${pid}-${PID_SPACE}-${suffix}`
}

const TEMPORARY_ENTRY = /^\..+\.tmp-(\d+)-([0-9a-f]{8})-[0-9a-f]+$/

export interface RemoveAbandonedOptions {
  /** Deletes one tree (removeTree by default); image builds may leave trees only an id-mapped `rm` can delete. */
  remove?: (path: string) => Promise<void>
  stream?: NodeJS.WritableStream
}

/**
 * Removes the half-built cache entries of processes that died before finishing them (a run
 * killed with SIGKILL while it fetched a kernel or built an image), and each one's parent when
 * left empty. Entries of live processes, and of processes in another pid namespace, stay. Says
 * what it removed (or could not) on `stream`, and returns what it removed.
 */
export async function removeAbandonedEntries(
  cacheDir: string,
  options: RemoveAbandonedOptions = {},
): Promise<string[]> {
  const { remove = removeTree, stream = process.stderr } = options
  const removed: string[] = []
  const failed: string[] = []
  const visit = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      if (!entry.isDirectory()) continue
      const path = join(dir, entry.name)
      const [, owner, space] = TEMPORARY_ENTRY.exec(entry.name) ?? []
      if (owner === undefined) {
        if (depth < MAX_DEPTH) await visit(path, depth + 1)
      } else if (space === PID_SPACE && !(await isAlive(Number(owner)))) {
        try {
          await remove(path)
          removed.push(path)
          if (dir !== cacheDir) await rmdir(dir).catch(() => {})
        } catch (error) {
          failed.push(`${path} (${(error as Error).message})`)
        }
      }
    }
  }
  await visit(cacheDir, 1)
  const list = (paths: string[]) => paths.map((path) => `  ${path}\n`).join('')
  if (removed.length > 0) {
    stream.write(`vitest-uml: removed what an earlier run left half-built when it was killed:\n${list(removed)}`)
  }
  if (failed.length > 0) {
    stream.write(
      `vitest-uml: could not remove what an earlier run left half-built; remove it by hand (or run \`vitest-uml doctor\`):\n${list(failed)}`,
    )
  }
  return removed
}

/**
 * Processes (other than this one) that are building the entry `target` right now: the owners of
 * its temporary entries that are alive in this pid namespace. A caller can wait for them instead
 * of building the same entry twice.
 */
export async function findLiveBuilders(target: string): Promise<number[]> {
  const prefix = `.${basename(target)}.tmp-`
  const names = await readdir(dirname(target)).catch(() => [] as string[])
  const owners: number[] = []
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const [, owner, space] = TEMPORARY_ENTRY.exec(name) ?? []
    const pid = Number(owner)
    if (space === PID_SPACE && pid !== process.pid && (await isAlive(pid))) owners.push(pid)
  }
  return owners
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
