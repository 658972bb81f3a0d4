import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { imageNameDir } from './cache-layout.js'
import { type InstalledImage, readInstalledImage } from './installed-image.js'

export interface CacheEntry {
  image: InstalledImage
  createdAt: string
}

/** The complete entries cached under a name, newest first. Temporary build dirs start with `.` and are skipped. */
export async function readCacheEntries(cacheDir: string, name: string): Promise<CacheEntry[]> {
  const dir = imageNameDir(cacheDir, name)
  const hashes = (await readdirOrEmpty(dir)).filter((entry) => !entry.startsWith('.'))
  const entries = await Promise.all(hashes.map((hash) => readInstalledImage(join(dir, hash))))
  return entries.sort((a, b) => b.createdAt.localeCompare(a.createdAt))
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}
