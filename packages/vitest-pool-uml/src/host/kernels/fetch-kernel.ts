import { exists, requireHostTool, UmlError, writeDirAtomically } from '../core/index.js'
import { assertHostGlibc } from './host-glibc.js'
import { type InstalledKernel, kernelEntryDir, readKernelEntry } from './kernel-entry.js'
import { type FetchKernelOptions, resolveFetchOptions } from './kernel-options.js'
import { getKernelPin, KERNEL_NAMES } from './kernel-pins.js'
import { MANIFEST } from './manifest.js'
import type { KernelPin } from './manifest-schema.js'
import { type HostTools, prepareKernelEntry } from './prepare-kernel-entry.js'

/**
 * Makes sure the pinned kernel `name` is prepared in the cache and returns it. Downloads only when
 * the cache lacks it; concurrent calls (even from other processes) are safe, and a failed fetch
 * leaves nothing behind.
 */
export async function fetchKernel(name: string, options: FetchKernelOptions = {}): Promise<InstalledKernel> {
  const pin = getKernelPin(name)
  const resolved = resolveFetchOptions(options)
  const dir = kernelEntryDir(resolved.cacheDir, name, pin)
  const cached = await readCachedEntry(dir, name, pin)
  if (cached) return cached

  if (pin.libs === undefined) assertHostGlibc(name, pin.minGlibc, kernelsWithPinnedLibs())
  const tools = await requireTools()
  await writeDirAtomically(dir, async (temp) => {
    await prepareKernelEntry(temp, name, pin, tools, resolved)
  })
  const installed = await readKernelEntry(dir, name, pin)
  if (!installed) throw unreadableEntry(dir, name)
  return installed
}

/** The valid entry, undefined when there is none, or an error when something else occupies its place. */
async function readCachedEntry(dir: string, name: string, pin: KernelPin): Promise<InstalledKernel | undefined> {
  const installed = await readKernelEntry(dir, name, pin)
  if (installed || !(await exists(dir))) return installed
  // Another process may have renamed its finished entry into place since the first read.
  const again = await readKernelEntry(dir, name, pin)
  if (again) return again
  throw unreadableEntry(dir, name)
}

function unreadableEntry(dir: string, name: string): UmlError {
  return new UmlError(
    'UML_KERNEL_FETCH_FAILED',
    `The cache entry of kernel ${name} at ${dir} is incomplete or was changed by hand. Delete that directory ` +
      `and run \`vitest-uml kernels fetch ${name}\` again.`,
    { details: { dir, name } },
  )
}

async function requireTools(): Promise<HostTools> {
  return {
    dpkgDeb: await requireHostTool('dpkg-deb', 'to unpack Debian kernel packages'),
    patchelf: await requireHostTool('patchelf', 'to point kernels at their own C library'),
    bwrap: await requireHostTool('bwrap', 'to run kernels in a sandbox'),
  }
}

function kernelsWithPinnedLibs(): string[] {
  return KERNEL_NAMES.filter((name) => MANIFEST.kernels[name]?.libs !== undefined)
}
