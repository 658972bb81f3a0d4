import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm, rmdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/**
 * Builds a directory under a temporary name beside `target` and renames it into place, so a
 * reader sees either nothing or a complete entry. When two processes build the same entry at
 * once, the first rename wins and the loser's copy is discarded. A failed build leaves nothing.
 * Returns true when this call's copy was installed.
 */
export async function writeDirAtomically(target: string, build: (tempDir: string) => Promise<void>): Promise<boolean> {
  const parent = dirname(target)
  const createdParent = await mkdir(parent, { recursive: true })
  const temp = join(parent, `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  await mkdir(temp)
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
    await rm(temp, { recursive: true, force: true })
    // A parent made for this entry goes too, unless another entry landed in it meanwhile.
    if (createdParent !== undefined) await rmdir(parent).catch(() => {})
    throw error
  } finally {
    await rm(temp, { recursive: true, force: true })
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
