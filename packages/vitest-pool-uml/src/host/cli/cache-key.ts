import { createHash } from 'node:crypto'

/** Everything the cache's content follows from, as `vitest-uml cache-key` reads it. */
export interface CacheKeyInputs {
  /** The pinned kernels (kernels/manifest.json). */
  kernels: unknown
  /** The image recipes, by name. */
  recipes: unknown
  /** What else goes into every image: the builder version and the init stub baked in. */
  imageBuilder: unknown
  /** What goes into every kernel built from source: the builder version and the default guest config. */
  kernelBuilder: unknown
  /** The lock file's text; empty when the project has none. */
  lockFile: string
  /** More files the project names (its vitest.config, say), by path. */
  files: Record<string, string>
  /** Kernels and the guest Node are patched against the host's C library: `debian-12-x64`. */
  host: string
}

/**
 * A key for CI caches of the vitest-uml cache directory: `vitest-uml-<host>-<16 hex digits>`, the
 * same exactly when the kernels, recipes, image builder, pinned images and named files are.
 */
export function computeCacheKey(inputs: CacheKeyInputs): string {
  const { host, ...content } = inputs
  const files = Object.fromEntries(Object.entries(content.files).sort(([a], [b]) => a.localeCompare(b)))
  const digest = createHash('sha256')
    .update(JSON.stringify({ ...content, files }))
    .digest('hex')
  return `vitest-uml-${host}-${digest.slice(0, 16)}`
}
