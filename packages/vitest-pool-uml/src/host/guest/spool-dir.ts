import { randomBytes } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { temporaryEntryName } from '../core/index.js'

/**
 * A host directory for one guest's spooled frames (see SPOOL_MIN_FRAME_BYTES), bound read-only
 * into its sandbox. Named as a temporary cache entry of this process, so a run killed before it
 * removes the directory leaves it for the next run's cleanup of abandoned entries.
 */
export async function createSpoolDir(cacheDir: string): Promise<string> {
  const dir = join(cacheDir, temporaryEntryName('guest-spool', process.pid, randomBytes(6).toString('hex')))
  await mkdir(cacheDir, { recursive: true })
  await mkdir(dir, { mode: 0o700 })
  return dir
}

export async function removeSpoolDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
}
