import { resolve } from 'node:path'
import { getCacheDir, type Progress, silentProgress, UmlError } from '@vitest-uml/core'
import { z } from 'zod'

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian'

const progressSchema = z.custom<Progress>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['start', 'update', 'end'].every((key) => typeof (value as Record<string, unknown>)[key] === 'function'),
  'must be a Progress ({ start, update, end })',
)

const cacheOptionsSchema = z.object({ cacheDir: z.string().min(1).optional() })

const fetchOptionsSchema = cacheOptionsSchema.extend({
  mirror: z.url({ protocol: /^https?$/ }).optional(),
  progress: progressSchema.optional(),
})

export type CacheOptions = z.input<typeof cacheOptionsSchema>
export type FetchKernelOptions = z.input<typeof fetchOptionsSchema>

export interface ResolvedCacheOptions {
  cacheDir: string
}

export interface ResolvedFetchOptions extends ResolvedCacheOptions {
  mirror: string
  progress: Progress
}

export function resolveCacheOptions(options: CacheOptions = {}): ResolvedCacheOptions {
  const parsed = parse(cacheOptionsSchema, options)
  return { cacheDir: resolve(parsed.cacheDir ?? getCacheDir()) }
}

export function resolveFetchOptions(options: FetchKernelOptions = {}): ResolvedFetchOptions {
  const mirror = options.mirror ?? process.env.VITEST_UML_DEBIAN_MIRROR ?? DEFAULT_MIRROR
  const parsed = parse(fetchOptionsSchema, { ...options, mirror })
  return {
    cacheDir: resolve(parsed.cacheDir ?? getCacheDir()),
    mirror: mirror.replace(/\/+$/, ''),
    progress: parsed.progress ?? silentProgress,
  }
}

function parse<T extends z.ZodType>(schema: T, options: unknown): z.output<T> {
  const result = schema.safeParse(options)
  if (result.success) return result.data
  throw new UmlError(
    'UML_INVALID_OPTIONS',
    `Invalid kernel options (the mirror may come from VITEST_UML_DEBIAN_MIRROR):\n${z.prettifyError(result.error)}`,
    { details: { issues: result.error.issues } },
  )
}
