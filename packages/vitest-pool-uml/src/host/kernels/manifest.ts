import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseOptions } from '../core/index.js'
import { type Manifest, manifestSchema } from './manifest-schema.js'

// The build copies the manifest beside the compiled files; in the source tree it sits at the repo root.
const CANDIDATES = [
  new URL('./manifest.json', import.meta.url),
  new URL('../../../../../kernels/manifest.json', import.meta.url),
]

/** Reads and validates the pinned kernel manifest that ships with this package. */
export function readManifest(): Manifest {
  const url = CANDIDATES.find((candidate) => existsSync(candidate))
  if (!url)
    throw new Error(`kernels/manifest.json is missing beside ${fileURLToPath(import.meta.url)}; rebuild the package`)
  return parseManifest(JSON.parse(readFileSync(url, 'utf8')), fileURLToPath(url))
}

export function parseManifest(data: unknown, source = 'manifest'): Manifest {
  // A broken manifest is a packaging bug, reported as a broken image recipe is.
  return parseOptions(manifestSchema, data, {
    subject: `The kernel manifest ${source} is invalid`,
    fix: 'Fix the file, or reinstall vitest-pool-uml.',
  })
}

export const MANIFEST: Manifest = readManifest()
