import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exists, LOADER_NAME, UmlError } from '../core/index.js'

/** Where a host keeps its x86_64 C libraries: Debian-style multiarch dirs first, then the Red Hat style. */
export const HOST_LIB_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64']

/** Inside Debian's libc6 and libgcc-s1 packages. */
export const DEB_LIB_DIR = 'usr/lib/x86_64-linux-gnu'

/**
 * Everything the kernel's dynamic loading needs beside it: the loader, its NEEDED libraries, and
 * libgcc_s, which glibc loads on demand (newer glibc wants it when the kernel exits).
 */
export function kernelLibNames(needed: readonly string[]): string[] {
  return [...new Set([LOADER_NAME, ...needed, 'libgcc_s.so.1'])]
}

/** Copies each library as a real file (symlinks resolved) from the first of `fromDirs` that has it. */
export async function copyKernelLibs(
  names: readonly string[],
  fromDirs: readonly string[],
  toDir: string,
  kernel: string,
): Promise<void> {
  for (const name of names) {
    const source = await findFirst(name, fromDirs)
    if (!source) {
      throw new UmlError(
        'UML_KERNEL_START_FAILED',
        `Kernel ${kernel} needs ${name}, which is in none of ${fromDirs.join(', ')}. Install the package that ` +
          'provides it (libc6 or libgcc-s1 on Debian), or pick a kernel that brings its own C library.',
        { details: { kernel, library: name, searched: fromDirs } },
      )
    }
    await copyFile(source, join(toDir, name))
  }
}

async function findFirst(name: string, dirs: readonly string[]): Promise<string | undefined> {
  for (const dir of dirs) {
    const candidate = join(dir, name)
    if (await exists(candidate)) return candidate
  }
  return undefined
}
