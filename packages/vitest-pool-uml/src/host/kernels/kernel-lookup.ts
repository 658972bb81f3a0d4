import { UmlError } from '../core/index.js'
import { type BuildKernelOptions, buildKernel } from './build-kernel.js'
import { builtKernelDir, listBuiltKernelNames, readBuiltKernel, readBuiltKernels } from './built-kernels.js'
import { fetchKernel } from './fetch-kernel.js'
import { getInstalledKernel } from './installed-kernels.js'
import type { InstalledKernel } from './kernel-entry.js'
import { type CacheOptions, resolveCacheOptions } from './kernel-options.js'
import { DEFAULT_KERNEL, KERNEL_NAMES } from './kernel-pins.js'
import {
  builtinRecipe,
  builtinRecipeNames,
  KERNEL_NAME_PATTERN,
  type KernelRecipe,
  resolveRecipe,
} from './kernel-recipe.js'

export interface KernelLookupOptions extends BuildKernelOptions {
  /** A project's own kernel recipes by name (the pool's `kernels` option). */
  recipes?: Record<string, KernelRecipe>
}

/**
 * The kernel named `name`, fetched or built first when the cache lacks it: a pinned Debian kernel
 * (`7.2`), a recipe of the project's, a built-in recipe (`custom-7.2`), or else the newest kernel
 * built under that name with `vitest-uml kernels build`.
 */
export async function ensureKernel(name: string, options: KernelLookupOptions = {}): Promise<InstalledKernel> {
  if (KERNEL_NAMES.includes(name)) return fetchKernel(name, options)
  const recipe = findRecipe(name, options.recipes)
  if (recipe) return buildKernel(name, recipe, options)
  const [newest] = await readBuiltKernels(resolveCacheOptions(options).cacheDir, name)
  if (newest) return newest
  throw await unknownKernelError(name, options)
}

/**
 * Like ensureKernel, but only from the cache: an error says how to fetch or build what it lacks.
 */
export async function resolveKernel(name: string, options: KernelLookupOptions = {}): Promise<InstalledKernel> {
  const { cacheDir } = resolveCacheOptions(options)
  if (KERNEL_NAMES.includes(name)) {
    const installed = await getInstalledKernel(name, options)
    if (installed) return installed
    throw notReady(
      name,
      `vitest-uml kernels fetch ${name}`,
      cacheDir,
      'it downloads and verifies the pinned Debian package once',
    )
  }
  const recipe = findRecipe(name, options.recipes)
  if (recipe) {
    const plan = await resolveRecipe(name, recipe, options.baseDir ?? process.cwd())
    const built = await readBuiltKernel(builtKernelDir(cacheDir, name, plan.hash))
    if (built) return built
    throw notReady(name, `vitest-uml kernels build ${name}`, cacheDir, 'or let the pool build it')
  }
  const [newest] = await readBuiltKernels(cacheDir, name)
  if (newest) return newest
  throw await unknownKernelError(name, options)
}

function findRecipe(name: string, recipes: Record<string, KernelRecipe> | undefined): KernelRecipe | undefined {
  return (recipes && Object.hasOwn(recipes, name) ? recipes[name] : undefined) ?? builtinRecipe(name)
}

function notReady(name: string, command: string, cacheDir: string, note: string): UmlError {
  return new UmlError(
    'UML_KERNEL_NOT_FETCHED',
    `Kernel ${name} is not in the cache yet. Run \`${command}\` first (${note}).`,
    { details: { name, cacheDir } },
  )
}

async function unknownKernelError(name: string, options: KernelLookupOptions): Promise<UmlError> {
  const built = await listBuiltKernelNames(resolveCacheOptions(options).cacheDir)
  const own = Object.keys(options.recipes ?? {})
  const badName = KERNEL_NAME_PATTERN.test(name) ? '' : ' Kernel names use lower-case letters, digits, dots and dashes.'
  return new UmlError(
    'UML_KERNEL_UNKNOWN',
    `There is no kernel named "${name}".${badName} Pick a pinned Debian kernel (${KERNEL_NAMES.join(', ')}; default ` +
      `${DEFAULT_KERNEL}), a built-in recipe (${builtinRecipeNames().join(', ')}), ` +
      `${own.length > 0 ? `one of this project's kernels (${own.join(', ')}), ` : "a recipe of the project's in the `kernels` option, "}` +
      `or a kernel built with \`vitest-uml kernels build ${name} ...\` (\`vitest-uml kernels list\` shows those).`,
    { details: { name, known: [...KERNEL_NAMES, ...builtinRecipeNames(), ...own, ...built] } },
  )
}

/** A kernel built from source, for `vitest-uml kernels list`: a built-in recipe (built or not) or a name built before. */
export interface BuiltKernelListing {
  name: string
  /** Set for the built-in recipes. */
  builtin: boolean
  /** The newest build under the name, when there is one. */
  installed: InstalledKernel | undefined
}

export async function listBuiltKernels(options: CacheOptions = {}): Promise<BuiltKernelListing[]> {
  const { cacheDir } = resolveCacheOptions(options)
  const builtin = builtinRecipeNames()
  const names = [...new Set([...builtin, ...(await listBuiltKernelNames(cacheDir))])]
  return Promise.all(
    names.map(async (name) => ({
      name,
      builtin: builtin.includes(name),
      installed: builtin.includes(name)
        ? await resolveKernel(name, { cacheDir }).catch(() => undefined)
        : (await readBuiltKernels(cacheDir, name))[0],
    })),
  )
}
