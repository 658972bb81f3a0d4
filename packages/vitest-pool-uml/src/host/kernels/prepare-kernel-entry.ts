import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { UmlError } from '../core/index.js'
import { downloadDeb } from './download-deb.js'
import { extractDeb } from './extract-deb.js'
import { KERNEL_BINARY_NAME, type KernelMetadata, writeKernelMetadata } from './kernel-entry.js'
import { copyKernelLibs, DEB_LIB_DIR, HOST_LIB_DIRS, kernelLibNames } from './kernel-libs.js'
import type { ResolvedFetchOptions } from './kernel-options.js'
import { MANIFEST } from './manifest.js'
import type { DebPin, KernelPin } from './manifest-schema.js'
import { pointKernelAtSandboxLibs, readNeededLibs } from './patch-kernel.js'
import { probeKernel } from './probe-kernel.js'

export interface HostTools {
  dpkgDeb: string
  patchelf: string
  bwrap: string
}

/**
 * Fills an empty `entryDir` with a ready kernel: downloads and verifies the pinned .debs into a
 * scratch dir inside it, takes out the kernel, its modules and its C libraries, patches the kernel
 * to load them from SANDBOX_KERNEL_LIB_DIR, checks it starts, and writes kernel.json last.
 */
export async function prepareKernelEntry(
  entryDir: string,
  name: string,
  pin: KernelPin,
  tools: HostTools,
  options: ResolvedFetchOptions,
): Promise<KernelMetadata> {
  const scratch = join(entryDir, '.scratch')
  const kernelTree = join(scratch, 'kernel')
  await mkdir(kernelTree, { recursive: true })
  await fetchAndExtract(pin.deb, kernelTree, scratch, tools, options)

  const binary = join(entryDir, KERNEL_BINARY_NAME)
  await rename(join(kernelTree, 'usr/bin/linux.uml'), binary)
  const release = await moveModules(join(kernelTree, 'usr/lib/uml/modules'), join(entryDir, 'modules'), name)

  const libDir = join(entryDir, 'lib')
  await mkdir(libDir)
  const libNames = kernelLibNames(await readNeededLibs(tools.patchelf, binary))
  const libDebs = pin.libs === undefined ? undefined : MANIFEST.libs[pin.libs]
  if (libDebs) {
    const libTree = join(scratch, 'libs')
    await mkdir(libTree)
    for (const deb of libDebs) await fetchAndExtract(deb, libTree, scratch, tools, options)
    await copyKernelLibs(libNames, [join(libTree, DEB_LIB_DIR)], libDir, name)
  } else {
    await copyKernelLibs(libNames, HOST_LIB_DIRS, libDir, name)
  }
  await rm(scratch, { recursive: true, force: true })

  await pointKernelAtSandboxLibs(tools.patchelf, binary)
  const { supportsSeccomp, supportsTimeTravel } = await probeKernel(tools.bwrap, entryDir, name)
  const metadata: KernelMetadata = {
    name,
    release,
    suite: pin.suite,
    packageVersion: pin.deb.version,
    supportsSeccomp,
    supportsTimeTravel,
    libs: libDebs ? 'pinned' : 'host',
  }
  await writeKernelMetadata(entryDir, metadata)
  return metadata
}

async function fetchAndExtract(
  deb: DebPin,
  into: string,
  scratch: string,
  tools: HostTools,
  options: ResolvedFetchOptions,
): Promise<void> {
  const file = await downloadDeb(deb, { mirror: options.mirror, dir: scratch, progress: options.progress })
  await extractDeb(tools.dpkgDeb, file, into)
  await rm(file)
}

/** Moves the one `modules/<release>` dir across and returns the release. */
async function moveModules(from: string, to: string, kernel: string): Promise<string> {
  const releases = await readdir(from)
  const [release] = releases
  if (releases.length !== 1 || release === undefined) {
    throw new UmlError(
      'UML_KERNEL_FETCH_FAILED',
      `The package of kernel ${kernel} should hold exactly one modules dir under usr/lib/uml/modules, but has ` +
        `[${releases.join(', ')}]. The pin in kernels/manifest.json names a package of another layout; update it.`,
      { details: { kernel, releases } },
    )
  }
  await mkdir(to)
  await rename(join(from, release), join(to, release))
  return release
}
