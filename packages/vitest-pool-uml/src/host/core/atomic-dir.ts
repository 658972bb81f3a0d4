import { randomBytes } from 'node:crypto'
import { mkdir, rename, rmdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { temporaryEntryName } from './abandoned-entries.js'
import { removeTree } from './remove-tree.js'

/**
 * Builds a directory under a temporary name beside `target` and renames it into place, so a
 * reader sees either nothing or a complete entry. When two processes build the same entry at
 * once, the first rename wins and the loser's copy is discarded. A failed build leaves nothing.
 * Returns true when this call's copy was installed.
 */
export async function writeDirAtomically(target: string, build: (tempDir: string) => Promise<void>): Promise<boolean> {
  const parent = dirname(target)
  const createdParent = await mkdir(parent, { recursive: true })
  const temp = join(parent, temporaryEntryName(basename(target), process.pid, randomBytes(4).toString('hex')))
  // Recursive: another process may have just removed the parent it found empty.
  await mkdir(temp, { recursive: true })
  try {
    await build(temp)
    try {
      await rename(temp, target)
      return true
    } catch (error) {
      if (isAlreadyThere(error) && (await exists(target))) return false
      throw error
    }
  } catch (error) {
    await removeTree(temp)
    // Parents made for this entry go too, unless another entry landed in them meanwhile.
    if (createdParent !== undefined) await removeEmptyDirs(parent, createdParent)
    throw error
  } finally {
    await removeTree(temp)
  }
}

/** Removes `dir` and its parents up to `top` while they are empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  let current = dir
  const removed = (path: string) =>
    rmdir(path).then(
      () => true,
      () => false,
    )
  while (await removed(current)) {
    if (current === top) return
    current = dirname(current)
  }
}

function isAlreadyThere(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code
  return code === 'ENOTEMPTY' || code === 'EEXIST'
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
