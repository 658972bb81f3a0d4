import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Bytes a directory tree really occupies; images are sparse, so this is far below their
 * apparent size. Subtrees it may not read (left by an interrupted unprivileged build) count as
 * their directory alone.
 */
export async function diskUsage(path: string): Promise<number> {
  const info = await lstat(path)
  if (!info.isDirectory()) return info.blocks * 512
  const children = await readdir(path).catch(() => [])
  const sizes = await Promise.all(children.map((child) => diskUsage(join(path, child))))
  return sizes.reduce((sum, size) => sum + size, info.blocks * 512)
}
