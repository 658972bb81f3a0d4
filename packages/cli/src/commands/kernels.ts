import { createStreamProgress, getCacheDir, UmlError } from '@vitest-uml/core'
import { DEFAULT_KERNEL, fetchKernel, KERNEL_NAMES, listKernels } from '@vitest-uml/kernels'
import { z } from 'zod'
import { parseCommandArgs } from '../parse-command-args.js'
import { formatTable } from '../print-table.js'

const fetchSchema = z.object({ positionals: z.array(z.string()).max(1, 'fetch takes one kernel name, or all') })

/** `vitest-uml kernels fetch|list`. */
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
  if (action === 'list') {
    parseCommandArgs('kernels list', rest, {}, z.object({ positionals: z.array(z.string()).max(0) }))
    const kernels = await listKernels({ cacheDir })
    const rows = kernels.map((kernel) => [
      kernel.name + (kernel.isDefault ? ' (default)' : ''),
      kernel.suite,
      kernel.packageVersion,
      kernel.installed
        ? `yes (${kernel.installed.release}${kernel.installed.supportsSeccomp ? ', seccomp' : ''})`
        : 'no',
    ])
    process.stdout.write(`${formatTable(['KERNEL', 'SUITE', 'PACKAGE', 'CACHED'], rows)}\n`)
    return 0
  }
  throw new UmlError(
    'UML_INVALID_OPTIONS',
    `vitest-uml kernels: unknown action ${JSON.stringify(action ?? '')}; use \`kernels fetch [name|all]\` or \`kernels list\`.`,
  )
}
