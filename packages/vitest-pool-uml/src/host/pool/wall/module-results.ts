import { dirname, isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { HostFiles } from './host-files.js'
import { importGlobReachesOut } from './import-globs.js'

const INLINE_SOURCE_MAP = '//# sourceMappingURL=data:application/json;base64,'

/**
 * What keeps a module Vite fetched for a guest from going to it, if anything: its file is one the
 * guest may not have; its `import.meta.glob` matched such files (expanded on the host, the list
 * alone names them); or its source map carries the content of such a file (Vite fills
 * `sourcesContent` from the files a map names, wherever they are).
 */
export function fetchResultProblem(result: unknown, files: HostFiles): string | undefined {
  const module = result as { code?: unknown; file?: unknown } | null
  if (typeof module !== 'object' || module === null || typeof module.code !== 'string') return undefined
  const file = typeof module.file === 'string' ? module.file : undefined
  if (file !== undefined && isAbsolute(file) && !files.allows(file)) return 'its file'
  if (file !== undefined && importGlobReachesOut(file, files)) return 'what its import.meta.glob matches'
  const mapAt = module.code.lastIndexOf(INLINE_SOURCE_MAP)
  if (mapAt !== -1 && file !== undefined) {
    const encoded = module.code.slice(mapAt + INLINE_SOURCE_MAP.length).trim()
    const sources = sourcesWithContent(encoded, file)
    if (sources === undefined) return 'its source map, which does not parse'
    if (sources.some((source) => source !== file && !files.allows(source))) return 'a file its source map holds'
  }
  return undefined
}

/** What keeps a resolved module id from going to a guest: the host file it names is one the guest may not have. */
export function resolveResultProblem(result: unknown, files: HostFiles): string | undefined {
  const file = (result as { file?: unknown } | null)?.file
  return typeof file === 'string' && isAbsolute(file) && !files.allows(file) ? 'the file it resolves to' : undefined
}

/** The paths of the sources a base64 source map carries the content of; undefined if it does not parse. */
function sourcesWithContent(encoded: string, file: string): string[] | undefined {
  let map: { sources?: unknown; sourcesContent?: unknown; sourceRoot?: unknown }
  try {
    map = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(map.sources) || !Array.isArray(map.sourcesContent)) return []
  const base =
    typeof map.sourceRoot === 'string' && map.sourceRoot ? resolve(dirname(file), map.sourceRoot) : dirname(file)
  const paths: string[] = []
  map.sources.forEach((source, index) => {
    if (typeof source !== 'string' || (map.sourcesContent as unknown[])[index] == null) return
    if (source.startsWith('file://')) paths.push(fileURLToPath(source))
    else if (!source.startsWith('\0') && !/^[a-z][a-z0-9+.-]*:/i.test(source)) paths.push(resolve(base, source))
  })
  return paths
}
