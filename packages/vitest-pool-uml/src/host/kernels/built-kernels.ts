import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { exists } from '../core/index.js'
import { type InstalledKernel, installedKernel, KERNEL_BINARY_NAME, readKernelMetadata } from './kernel-entry.js'

/** `<cacheDir>/built-kernels/<name>/<recipe hash>/`, with each build's log beside it as `<hash>.log`. */
export function builtKernelsRoot(cacheDir: string): string {
  return join(cacheDir, 'built-kernels')
}

export function builtKernelDir(cacheDir: string, name: string, hash: string): string {
  return join(builtKernelsRoot(cacheDir), name, hash)
}

/** Where a build writes its log: beside its entry, so a failed build's log outlives it. */
export function buildLogPath(cacheDir: string, name: string, hash: string): string {
  return `${builtKernelDir(cacheDir, name, hash)}.log`
}

/** The complete built kernel at `dir`, or undefined. */
export async function readBuiltKernel(dir: string): Promise<InstalledKernel | undefined> {
  const metadata = await readKernelMetadata(dir)
  if (!metadata?.built || !(await exists(join(dir, KERNEL_BINARY_NAME)))) return undefined
  return installedKernel(dir, metadata)
}

/** Every complete built kernel under `name`, newest first. Temporary build dirs start with `.` and are skipped. */
export async function readBuiltKernels(cacheDir: string, name: string): Promise<InstalledKernel[]> {
  const dir = join(builtKernelsRoot(cacheDir), name)
  const hashes = (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
  const kernels = (await Promise.all(hashes.map((hash) => readBuiltKernel(join(dir, hash))))).filter(
    (kernel) => kernel !== undefined,
  )
  return kernels.sort((a, b) => (b.built?.builtAt ?? '').localeCompare(a.built?.builtAt ?? ''))
}

/**
 * A complete kernel built under another name from the same recipe hash (same source, config and
 * builder), which a build of `name` can copy instead of compiling.
 */
export async function findBuiltTwin(
  cacheDir: string,
  name: string,
  hash: string,
): Promise<InstalledKernel | undefined> {
  for (const other of (await namesUnder(cacheDir)).filter((each) => each !== name)) {
    const built = await readBuiltKernel(builtKernelDir(cacheDir, other, hash))
    if (built) return built
  }
  return undefined
}

/** The names that have at least one complete built kernel. */
export async function listBuiltKernelNames(cacheDir: string): Promise<string[]> {
  const names = await namesUnder(cacheDir)
  const built = await Promise.all(
    names.map(async (name) => ((await readBuiltKernels(cacheDir, name)).length > 0 ? name : undefined)),
  )
  return built.filter((name) => name !== undefined)
}

/** The names kernels were built under, sorted; temporary build dirs start with `.` and are skipped. */
async function namesUnder(cacheDir: string): Promise<string[]> {
  return (await readdir(builtKernelsRoot(cacheDir), { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort()
}
