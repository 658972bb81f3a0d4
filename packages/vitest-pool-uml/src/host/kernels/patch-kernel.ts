import { join } from 'node:path'
import { LOADER_NAME, SANDBOX_KERNEL_LIB_DIR } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'

export async function readNeededLibs(patchelf: string, binary: string): Promise<string[]> {
  const { execa } = await loadExeca()
  const { stdout } = await execa(patchelf, ['--print-needed', binary])
  return stdout.split('\n').filter((line) => line.length > 0)
}

/**
 * Makes the kernel load its C library from the sandbox's fixed lib dir rather than the host's, so
 * it starts whatever glibc the host has. Two patchelf runs: patchelf 0.14 rewrites the 5.10 kernel
 * into a binary that segfaults at once when it changes the interpreter and the rpath in one run.
 */
export async function pointKernelAtSandboxLibs(patchelf: string, binary: string): Promise<void> {
  const { execa } = await loadExeca()
  await execa(patchelf, ['--force-rpath', '--set-rpath', SANDBOX_KERNEL_LIB_DIR, binary])
  await execa(patchelf, ['--set-interpreter', join(SANDBOX_KERNEL_LIB_DIR, LOADER_NAME), binary])
}
