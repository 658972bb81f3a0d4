import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_IMAGE, DEFAULT_KERNEL, ensureImage, fetchKernel } from 'vitest-pool-uml/api'

/** Seconds a fresh machine spends fetching the default kernel and building the default image. */
export async function measureFirstRun(): Promise<number> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'vitest-uml-bench-cache-'))
  try {
    const started = performance.now()
    await fetchKernel(DEFAULT_KERNEL, { cacheDir })
    await ensureImage(DEFAULT_IMAGE, { cacheDir })
    return (performance.now() - started) / 1000
  } finally {
    await rm(cacheDir, { recursive: true, force: true })
  }
}
