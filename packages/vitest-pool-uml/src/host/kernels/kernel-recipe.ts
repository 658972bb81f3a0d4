import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { z } from 'zod'
import { parseOptions, UmlError } from '../core/index.js'
import { type ConfigOptions, formatConfig, mergeConfigFragments, parseConfigFragment } from './config-fragment.js'
import { guestConfigLines } from './guest-config.js'
import { MANIFEST } from './manifest.js'
import type { SourcePin } from './manifest-schema.js'

/** Bump when the build changes what ends up in a kernel, so old cache entries stop matching. */
export const KERNEL_BUILDER_VERSION = 1

/** Built kernels are cache directories, so their names keep to a safe alphabet. */
export const KERNEL_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/

/** Built-in recipes: `custom-<version>` builds Debian's pinned linux-source-<version> with the default guest config. */
export const BUILTIN_RECIPE_PREFIX = 'custom-'

const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'the SHA-256 as 64 lowercase hex digits')

/** A kernel source tarball of the user's (a kernel.org release, say), pinned by its SHA-256. */
const tarballSourceSchema = z.union([
  z.strictObject({ url: z.url({ protocol: /^https?$/ }), sha256: sha256Schema }),
  z.strictObject({ path: z.string().min(1), sha256: sha256Schema }),
])

export const kernelRecipeSchema = z.strictObject({
  /**
   * What to build: a pinned Debian source by version (`'7.2'`), or a Linux source tarball by
   * `{ url, sha256 }` or `{ path, sha256 }`.
   * @default the default pinned source
   */
  source: z
    .union([z.string().regex(/^\d+\.\d+$/, 'a pinned source version such as "7.2"'), tarballSourceSchema])
    .optional(),
  /**
   * Kconfig options over the default guest config: a path to a config fragment file, or its
   * lines (`['CONFIG_BPF_SYSCALL=y', '# CONFIG_IPV6 is not set']`).
   */
  config: z.union([z.string().min(1), z.array(z.string())]).optional(),
  /** Build loadable modules too (off by default: guests need none). */
  modules: z.boolean().default(false),
})

export type KernelRecipe = z.input<typeof kernelRecipeSchema>

export type KernelSource =
  | { kind: 'debian'; version: string; pin: SourcePin; sha256: string }
  | { kind: 'tarball'; url: string; sha256: string }
  | { kind: 'tarball'; path: string; sha256: string }

/** A recipe with its source pinned down and its fragment read: all that goes into a build. */
export interface ResolvedRecipe {
  source: KernelSource
  /** The user's options only, to check they survived olddefconfig. */
  fragment: ConfigOptions
  /** The default guest config, then the user's fragment: what the build starts from. */
  config: ConfigOptions
  modules: boolean
  /** Identifies the build: source, config and builder. */
  hash: string
}

/** Names of the built-in recipes, one per pinned source. */
export function builtinRecipeNames(): string[] {
  return Object.keys(MANIFEST.sources).map((version) => `${BUILTIN_RECIPE_PREFIX}${version}`)
}

/** The built-in recipe named `name`, if it is one. */
export function builtinRecipe(name: string): KernelRecipe | undefined {
  const version = name.startsWith(BUILTIN_RECIPE_PREFIX) ? name.slice(BUILTIN_RECIPE_PREFIX.length) : undefined
  return version !== undefined && version in MANIFEST.sources ? { source: version } : undefined
}

/**
 * Validates a recipe and reads what it names. A config fragment path is relative to `baseDir`
 * (the project root for the pool, the working directory for the CLI).
 */
export async function resolveRecipe(name: string, input: KernelRecipe, baseDir: string): Promise<ResolvedRecipe> {
  const recipe = parseOptions(kernelRecipeSchema, input, {
    subject: `Invalid recipe for kernel ${name}`,
    fix: 'A kernel recipe has source (a pinned version such as "7.2", or a source tarball as { url, sha256 } or { path, sha256 }), config (a fragment file or its lines) and modules (true or false).',
    details: { name },
  })
  const source = resolveSource(recipe.source ?? MANIFEST.defaultSource, baseDir)
  const fragment = await readFragment(recipe.config, baseDir)
  const defaults = parseConfigFragment(guestConfigLines().join('\n'), 'the default guest config')
  const config = mergeConfigFragments(defaults, recipe.modules ? new Map([['MODULES', 'y']]) : new Map(), fragment)
  return { source, fragment, config, modules: recipe.modules, hash: recipeHash(source.sha256, config, recipe.modules) }
}

/** Identifies a build by what goes into it; where the source came from (URL, path) does not count. */
export function recipeHash(sourceSha256: string, config: ConfigOptions, modules: boolean): string {
  const text = JSON.stringify({
    builder: KERNEL_BUILDER_VERSION,
    source: sourceSha256,
    config: formatConfig(config),
    modules,
  })
  return createHash('sha256').update(text).digest('hex').slice(0, 16)
}

function resolveSource(source: string | z.output<typeof tarballSourceSchema>, baseDir: string): KernelSource {
  if (typeof source !== 'string') {
    return 'url' in source
      ? { kind: 'tarball', ...source }
      : { kind: 'tarball', ...source, path: resolve(baseDir, source.path) }
  }
  const pin = MANIFEST.sources[source]
  if (!pin) {
    throw new UmlError(
      'UML_INVALID_OPTIONS',
      `There is no pinned kernel source "${source}". Pick one of: ${Object.keys(MANIFEST.sources).join(', ')}, or give a ` +
        'source tarball as { url, sha256 } or { path, sha256 }.',
      { details: { name: source } },
    )
  }
  return { kind: 'debian', version: source, pin, sha256: pin.deb.sha256 }
}

async function readFragment(config: string | string[] | undefined, baseDir: string): Promise<ConfigOptions> {
  if (config === undefined) return new Map()
  if (Array.isArray(config)) return parseConfigFragment(config.join('\n'), 'given inline')
  const path = resolve(baseDir, config)
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UmlError(
      'UML_INVALID_OPTIONS',
      `Cannot read the kernel config fragment ${path}: ${error.code ?? error.message}. Give a path relative to ${baseDir}, or the options as a list of lines.`,
      { details: { path }, cause: error },
    )
  })
  return parseConfigFragment(text, path)
}

/** Says where a kernel's source comes from, for listings. */
export function describeSource(source: KernelSource): string {
  if (source.kind === 'debian') return `${source.pin.deb.package} ${source.pin.deb.version}`
  return 'url' in source ? source.url : source.path
}
