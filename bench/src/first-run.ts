import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureImage } from '@vitest-uml/images'
import { fetchKernel } from '@vitest-uml/kernels'

/** Seconds a fresh machine spends fetching the default kernel and building the default image. */
export async function measureFirstRun(): Promise<number> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'vitest-uml-bench-cache-'))
  try {
    const started = performance.now()
    await fetchKernel('7.2', { cacheDir })
    await ensureImage('debian-trixie', { cacheDir })
    return (performance.now() - started) / 1000
  } finally {
    await rm(cacheDir, { recursive: true, force: true })
  }
}
