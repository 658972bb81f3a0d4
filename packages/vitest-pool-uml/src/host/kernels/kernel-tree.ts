import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { exists, UmlError, writeDirAtomically } from '../core/index.js'
import type { BuildLog } from './build-log.js'
import { describeSource, type KernelSource } from './kernel-recipe.js'
import { obtainSourceTarball, type SourceOptions } from './kernel-source.js'

/**
 * Kernel builds keep two things per source in the cache, so a second recipe of the same source
 * (another config fragment) is neither downloaded nor unpacked again, and compiles only what its
 * config changes: `kernel-sources/<id>/src`, the pristine unpacked tree (Kbuild builds out of
 * it with O=, never writing into it), and `kernel-objects/<id>/out`, the objects of the first
 * build made from it, which later builds start from.
 */
export function kernelSourceDir(cacheDir: string, source: KernelSource): string {
  return join(cacheDir, 'kernel-sources', source.sha256.slice(0, 16), 'src')
}

export function kernelObjectsDir(cacheDir: string, source: KernelSource): string {
  return join(cacheDir, 'kernel-objects', source.sha256.slice(0, 16), 'out')
}

export interface TreeOptions extends Omit<SourceOptions, 'scratch'> {
  cacheDir: string
  tar: string
  log: BuildLog
  kernel: string
}

/** The unpacked source tree of `source`, downloaded, verified and unpacked on first use. */
export async function ensureSourceTree(source: KernelSource, options: TreeOptions): Promise<string> {
  const tree = kernelSourceDir(options.cacheDir, source)
  if (await exists(join(tree, 'Makefile'))) return tree
  await writeDirAtomically(join(tree, '..'), async (temp) => {
    const scratch = join(temp, '.download')
    await mkdir(scratch)
    const tarball = await obtainSourceTarball(source, { ...options, scratch })
    const src = join(temp, 'src')
    await mkdir(src)
    options.progress.start(`Unpacking ${describeSource(source)}`)
    try {
      await options.log.run(options.tar, ['-xf', tarball, '-C', src, '--strip-components=1'], {
        cwd: temp,
        what: 'unpacking the source',
      })
    } finally {
      options.progress.end()
    }
    await rm(scratch, { recursive: true, force: true })
    if (!(await exists(join(src, 'arch/um/Kconfig')))) {
      throw new UmlError(
        'UML_KERNEL_BUILD_FAILED',
        `The source of kernel ${options.kernel} (${describeSource(source)}) is not a Linux source tree with User Mode ` +
          'Linux (no arch/um/Kconfig under its top directory). Give a Linux source tarball such as linux-6.15.tar.xz.',
        { details: { kernel: options.kernel, logPath: options.log.path } },
      )
    }
  })
  return tree
}

/** Keeps a finished build's object tree as the starting point of later builds from its source (once). */
export async function keepObjects(cacheDir: string, source: KernelSource, out: string): Promise<void> {
  const seed = kernelObjectsDir(cacheDir, source)
  if (await exists(seed)) return
  await writeDirAtomically(join(seed, '..'), async (temp) => {
    await rename(out, join(temp, 'out'))
  })
}
