import { existsSync, realpathSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isFileLoadingAllowed, type TestProject } from 'vitest/node'

type ViteConfig = TestProject['vite']['config']

/** Bounds the verdict cache, whose keys a guest chooses. */
const MAX_VERDICTS = 50_000

/**
 * Which host files a guest may have the content of: what Vite's `server.fs.allow` and
 * `server.fs.deny` let a browser load (its deny defaults keep `.env`, certificates and `.git`
 * out), judged on the real path, so a symlink inside an allowed directory that leads out of it
 * gives nothing. With `server.fs.strict: false` the project has opted out of these checks.
 */
export class HostFiles {
  /** Verdicts on files that exist: module fetches ask about the same files again and again. */
  private readonly verdicts = new Map<string, boolean>()

  constructor(
    private readonly vite: ViteConfig,
    /** The project root: Vite reads `/src/x.ts` as a path under it. */
    readonly root: string,
    /** Directories allowed besides Vite's (the pool's own guest modules). */
    private readonly alsoAllowed: readonly string[] = [],
  ) {}

  /** The directories a refusal names, and the option that widens them. */
  get allowedDirs(): readonly string[] {
    return this.vite.server.fs.allow
  }

  /** True when the guest may have the content of this host file (an absolute path). */
  allows(path: string): boolean {
    const known = this.verdicts.get(path)
    if (known !== undefined) return known
    const existing = existingRealPath(path)
    const real = existing ?? realPath(path)
    const verdict = this.allowsRealPath(path) && (real === undefined || real === path || this.allowsRealPath(real))
    if (existing !== undefined) {
      if (this.verdicts.size >= MAX_VERDICTS) this.verdicts.clear()
      this.verdicts.set(path, verdict)
    }
    return verdict
  }

  /**
   * `allows` for a path known to be real (read from a real directory, and not a symbolic link);
   * `allows` asks it of a path and of its real path.
   */
  allowsRealPath(path: string): boolean {
    return loadingAllowed(this.vite, path) || this.alsoAllowed.some((dir) => path.startsWith(dir))
  }

  /**
   * The host file a module URL names before Vite resolves it (`/@fs/...`, `file://...`, a path
   * under the root or an absolute one, `./x` from its importer), or undefined for what names no
   * file by itself (a bare package name, a virtual module). Bare names with `..` segments name a
   * path out of their package, which nothing legitimate asks for: they come back as `..` itself.
   */
  namedFile(url: string, importer?: string | null): string | undefined {
    const clean = url.replace(/[?#].*$/s, '')
    if (clean.startsWith('/@fs/')) return clean.slice('/@fs'.length)
    if (clean.startsWith('file://')) return filePathOfUrl(clean)
    if (clean.startsWith('/@id/') || clean.startsWith('\0') || clean.startsWith('virtual:')) return undefined
    if (clean.startsWith('/')) {
      const underRoot = join(this.root, clean)
      return existsSync(underRoot) ? underRoot : clean
    }
    if (clean.startsWith('./') || clean.startsWith('../')) {
      const base = importer ? (this.namedFile(importer) ?? this.root) : join(this.root, 'index')
      return resolve(dirname(base), clean)
    }
    if (/^[a-z][a-z0-9+.-]*:/i.test(clean)) return undefined
    return clean.split('/').includes('..') ? '..' : undefined
  }

  /** True unless a module URL names a host file the guest may not have. */
  allowsUrl(url: string, importer?: string | null): boolean {
    const file = this.namedFile(url, importer)
    return file === undefined || (isAbsolute(file) && this.allows(file))
  }

  /** An id with Vite's `resolve.alias` applied, as Vite applies it to `import.meta.glob` patterns. */
  applyAlias(id: string): string {
    for (const { find, replacement } of this.vite.resolve.alias) {
      if (typeof find === 'string' ? id === find || id.startsWith(`${find}/`) : find.test(id)) {
        return id.replace(find, replacement)
      }
    }
    return id
  }

  /** True when a path lies inside the project root (real paths, not a prefix that merely matches). */
  isInRoot(path: string): boolean {
    const real = realPath(path) ?? path
    const root = realPath(this.root) ?? this.root
    return real.startsWith(root + sep)
  }
}

/** Vite's own judgement (the top-level config holds what it reads: `server.fs`, the deny matcher). */
function loadingAllowed(config: ViteConfig, path: string): boolean {
  return isFileLoadingAllowed(config as Parameters<typeof isFileLoadingAllowed>[0], path)
}

/** The real path of a file, or of its nearest existing parent (plus the rest) when it does not exist. */
export function realPath(path: string): string | undefined {
  const existing = existingRealPath(path)
  if (existing !== undefined) return existing
  const parent = dirname(path)
  if (parent === path) return undefined
  const realParent = realPath(parent)
  return realParent === undefined ? undefined : join(realParent, path.slice(parent.length + 1))
}

function existingRealPath(path: string): string | undefined {
  try {
    return realpathSync.native(path)
  } catch {
    return undefined
  }
}

function filePathOfUrl(url: string): string | undefined {
  try {
    return fileURLToPath(url)
  } catch {
    return undefined
  }
}
