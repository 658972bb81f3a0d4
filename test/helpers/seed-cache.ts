import { mkdir, mkdtemp } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { execa } from 'execa'
import { getCacheDir, resolveImage, resolveKernel } from 'vitest-pool-uml/api'

/**
 * A new cache (an XDG_CACHE_HOME under `parent`) holding copies of the suite's entries for the
 * given kernels and images only, so a test can start from a cold or half-filled cache without
 * fetching or building what it does not test.
 */
export async function seedCache(parent: string, entries: { kernels?: string[]; images?: string[] }): Promise<string> {
  const cacheHome = await mkdtemp(join(parent, 'cache-'))
  const source = getCacheDir()
  const target = join(cacheHome, 'vitest-uml')
  const dirs = [
    ...(await Promise.all(
      (entries.kernels ?? []).map(async (name) => (await resolveKernel(name, { cacheDir: source })).dir),
    )),
    ...(await Promise.all(
      (entries.images ?? []).map(async (name) => (await resolveImage(name, { cacheDir: source })).dir),
    )),
  ]
  for (const dir of dirs) {
    const copy = join(target, relative(source, dir))
    await mkdir(join(copy, '..'), { recursive: true })
    await execa('cp', ['-a', '--sparse=always', dir, copy])
  }
  return cacheHome
}
