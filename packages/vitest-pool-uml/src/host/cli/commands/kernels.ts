import { z } from 'zod'
import { createStreamProgress, getCacheDir, UmlError } from '../../core/index.js'
import {
  BUILTIN_RECIPE_PREFIX,
  buildKernel,
  DEFAULT_KERNEL,
  fetchKernel,
  type InstalledKernel,
  KERNEL_NAME_PATTERN,
  KERNEL_NAMES,
  type KernelRecipe,
  listBuiltKernels,
  listKernels,
} from '../../kernels/index.js'
import { parseCommandArgs } from '../parse-command-args.js'
import { formatTable } from '../print-table.js'

const fetchSchema = z.object({ positionals: z.array(z.string()).max(1, 'fetch takes one kernel name, or all') })

const buildSchema = z.object({
  source: z.string().min(1).optional(),
  sha256: z.string().optional(),
  config: z.string().min(1).optional(),
  modules: z.boolean().optional(),
  positionals: z
    .array(z.string())
    .length(1, `name the kernel to build, for example: kernels build ${BUILTIN_RECIPE_PREFIX}7.2`),
})

/** `vitest-uml kernels fetch|build|list`. */
export async function kernelsCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args
  const cacheDir = getCacheDir()
  if (action === 'fetch') {
    const [name = DEFAULT_KERNEL] = parseCommandArgs('kernels fetch', rest, {}, fetchSchema).positionals
    const names = name === 'all' ? KERNEL_NAMES : [name]
    const progress = createStreamProgress()
    for (const each of names) {
      const kernel = await fetchKernel(each, { cacheDir, progress })
      process.stdout.write(`kernel ${kernel.name} (${kernel.release}) ready in ${kernel.dir}\n`)
    }
    return 0
  }
  if (action === 'build') {
    const flags = parseCommandArgs(
      'kernels build',
      rest,
      {
        source: { type: 'string' },
        sha256: { type: 'string' },
        config: { type: 'string' },
        modules: { type: 'boolean' },
      },
      buildSchema,
    )
    const [name] = flags.positionals as [string]
    const kernel = await buildKernel(name, buildRecipe(name, flags), { cacheDir, progress: createStreamProgress() })
    process.stdout.write(`kernel ${kernel.name} (${kernel.release}${features(kernel)}) ready in ${kernel.dir}\n`)
    return 0
  }
  if (action === 'list') {
    parseCommandArgs('kernels list', rest, {}, z.object({ positionals: z.array(z.string()).max(0) }))
    const kernels = await listKernels({ cacheDir })
    const rows = kernels.map((kernel) => [
      kernel.name + (kernel.isDefault ? ' (default)' : ''),
      `Debian ${kernel.suite}, user-mode-linux ${kernel.packageVersion}`,
      kernel.installed ? `yes (${kernel.installed.release}${features(kernel.installed)})` : 'no',
    ])
    const built = await listBuiltKernels({ cacheDir })
    const builtRows = built.map((kernel) => [
      kernel.name,
      kernel.installed?.built?.source ?? (kernel.builtin ? 'built-in recipe' : ''),
      kernel.installed ? `yes (${kernel.installed.release}${features(kernel.installed)})` : 'no',
    ])
    process.stdout.write(`${formatTable(['KERNEL', 'FROM', 'CACHED'], [...rows, ...builtRows])}\n`)
    return 0
  }
  throw new UmlError(
    'UML_INVALID_OPTIONS',
    `Unknown action ${JSON.stringify(action ?? '')} for \`kernels\`; use \`kernels fetch [name|all]\`, \`kernels build <name>\` or \`kernels list\`.`,
  )
}

/** A recipe from the command line: the built-in one for `custom-<version>`, else the flags. */
function buildRecipe(name: string, flags: z.output<typeof buildSchema>): KernelRecipe {
  const own = flags.source !== undefined || flags.config !== undefined || flags.modules !== undefined
  if (name.startsWith(BUILTIN_RECIPE_PREFIX) && !own) return { source: name.slice(BUILTIN_RECIPE_PREFIX.length) }
  const problem = badName(name, own)
  if (problem) throw problem
  const recipe: KernelRecipe = { modules: flags.modules ?? false }
  if (flags.config) recipe.config = flags.config
  if (flags.source === undefined) return recipe
  if (/^\d+\.\d+$/.test(flags.source)) {
    recipe.source = flags.source
  } else if (flags.sha256 === undefined) {
    throw usage(`--source ${flags.source} needs --sha256 <hex>: a source tarball is pinned by its SHA-256`)
  } else if (/^https?:\/\//.test(flags.source)) {
    recipe.source = { url: flags.source, sha256: flags.sha256 }
  } else {
    recipe.source = { path: flags.source, sha256: flags.sha256 }
  }
  return recipe
}

function badName(name: string, own: boolean): UmlError | undefined {
  if (KERNEL_NAMES.includes(name)) {
    return usage(`${name} is a pinned Debian kernel (\`kernels fetch ${name}\`); give your own kernel another name`)
  }
  if (name.startsWith(BUILTIN_RECIPE_PREFIX) && own) {
    return usage(
      `names starting with ${BUILTIN_RECIPE_PREFIX} are the built-in recipes; give your own kernel another name`,
    )
  }
  if (!KERNEL_NAME_PATTERN.test(name)) {
    return usage(`kernel names use lower-case letters, digits, dots and dashes (got ${JSON.stringify(name)})`)
  }
  return undefined
}

function usage(problem: string): UmlError {
  return new UmlError(
    'UML_INVALID_OPTIONS',
    `Invalid arguments for \`kernels build\`: ${problem}. See \`vitest-uml --help\`.`,
  )
}

function features(kernel: InstalledKernel): string {
  return `${kernel.supportsSeccomp ? ', seccomp' : ''}${kernel.supportsTimeTravel ? ', time travel' : ''}`
}
