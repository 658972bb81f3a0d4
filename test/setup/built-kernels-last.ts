import { readFile } from 'node:fs/promises'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * What files that wait use: test/helpers/kernel-builds.ts's awaitBuiltKernels. (The config that
 * loads this module runs before the package is built, so it cannot import that helper, which
 * imports the package.)
 */
const WAITS_FOR_KERNELS = 'awaitBuiltKernels'

/**
 * Vitest's order, except that files waiting for the built-in kernels come last, giving the
 * background compile the whole run of the others.
 */
export class BuiltKernelsLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const waits = await Promise.all(
      sorted.map(async (spec) => (await readFile(spec.moduleId, 'utf8')).includes(WAITS_FOR_KERNELS)),
    )
    return [...sorted.filter((_, index) => !waits[index]), ...sorted.filter((_, index) => waits[index])]
  }
}
