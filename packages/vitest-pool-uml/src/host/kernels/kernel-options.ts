import { z } from 'zod'
import {
  cacheDirSchema,
  debianMirror,
  getCacheDir,
  type Progress,
  parseOptions,
  progressSchema,
  silentProgress,
} from '../core/index.js'

const FIX = 'Fix them and retry (the mirror may come from VITEST_UML_DEBIAN_MIRROR).'

const cacheOptionsSchema = z.object({ cacheDir: cacheDirSchema.optional() })

const fetchOptionsSchema = cacheOptionsSchema.extend({
  // Downloads go through fetch(), which speaks http and https only.
  mirror: z.url({ protocol: /^https?$/ }),
  progress: progressSchema.optional(),
})

export type CacheOptions = z.input<typeof cacheOptionsSchema>
export type FetchKernelOptions = Omit<z.input<typeof fetchOptionsSchema>, 'mirror'> & {
  /** Debian mirror; defaults to $VITEST_UML_DEBIAN_MIRROR, else DEFAULT_DEBIAN_MIRROR. */
  mirror?: string
}

export interface ResolvedCacheOptions {
  cacheDir: string
}

export interface ResolvedFetchOptions extends ResolvedCacheOptions {
  mirror: string
  progress: Progress
}

export function resolveCacheOptions(options: CacheOptions = {}): ResolvedCacheOptions {
  const parsed = parseOptions(cacheOptionsSchema, options, { subject: 'Invalid kernel cache options', fix: FIX })
  return { cacheDir: parsed.cacheDir ?? getCacheDir() }
}

export function resolveFetchOptions(options: FetchKernelOptions = {}): ResolvedFetchOptions {
  const input = { ...options, mirror: debianMirror(options.mirror) }
  const parsed = parseOptions(fetchOptionsSchema, input, { subject: 'Invalid options for fetchKernel()', fix: FIX })
  return {
    cacheDir: parsed.cacheDir ?? getCacheDir(),
    mirror: parsed.mirror,
    progress: parsed.progress ?? silentProgress,
  }
}
