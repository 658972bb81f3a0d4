import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'
import { UmlError } from './errors.js'

/** Host programs vitest-uml runs, with the Debian package that provides each. */
export const HOST_TOOLS = {
  bwrap: 'bubblewrap',
  mmdebstrap: 'mmdebstrap',
  mke2fs: 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  patchelf: 'patchelf',
  'dpkg-deb': 'dpkg',
  tar: 'tar',
  unshare: 'util-linux',
  mount: 'mount',
  setpriv: 'util-linux',
  taskset: 'util-linux',
  rm: 'coreutils',
  newuidmap: 'uidmap',
  slirp4netns: 'slirp4netns',
  perl: 'perl-base',
} as const

/** Host programs a guest runs without, only slower: doctor warns, saying what is lost. */
export const OPTIONAL_HOST_TOOLS: Partial<Record<keyof typeof HOST_TOOLS, string>> = {
  taskset: 'guests are not pinned to CPUs of their own, and run slower',
}

/**
 * What building a UML kernel from source needs besides HOST_TOOLS (`vitest-uml kernels build`
 * only): the compiler and Kbuild's own tools, and xz for the source tarballs.
 */
export const KERNEL_BUILD_TOOLS = {
  gcc: 'gcc',
  make: 'make',
  flex: 'flex',
  bison: 'bison',
  bc: 'bc',
  gzip: 'gzip',
  xz: 'xz-utils',
} as const

/** The host's C headers, which UML's own host-side code is compiled against. */
const LIBC_HEADER = { file: '/usr/include/stdio.h', package: 'libc6-dev' }

export type HostTool = keyof typeof HOST_TOOLS | keyof typeof KERNEL_BUILD_TOOLS

function toolPackage(tool: HostTool): string {
  return tool in HOST_TOOLS
    ? HOST_TOOLS[tool as keyof typeof HOST_TOOLS]
    : KERNEL_BUILD_TOOLS[tool as keyof typeof KERNEL_BUILD_TOOLS]
}

/** Finds a host program on PATH (and the sbin dirs an unprivileged PATH often lacks). */
export async function findHostTool(tool: HostTool, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = join(dir, tool)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return undefined
}

/** Like findHostTool, but a missing tool is a coded error naming the package to install. */
export async function requireHostTool(tool: HostTool, why: string): Promise<string> {
  const found = await findHostTool(tool)
  if (found) return found
  throw new UmlError(
    'UML_HOST_TOOL_MISSING',
    `${tool} is not installed, and vitest-uml needs it ${why}. Install it with: apt-get install ${toolPackage(tool)}`,
    { details: { tool, package: toolPackage(tool) } },
  )
}

export interface MissingTool {
  /** A program, or the file that shows a library's headers are there. */
  what: string
  package: string
}

/** What a kernel build needs that this host lacks, each with its Debian package (empty when all is there). */
export async function findMissingKernelBuildTools(): Promise<MissingTool[]> {
  const missing: MissingTool[] = []
  for (const tool of Object.keys(KERNEL_BUILD_TOOLS) as (keyof typeof KERNEL_BUILD_TOOLS)[]) {
    if (!(await findHostTool(tool))) missing.push({ what: tool, package: KERNEL_BUILD_TOOLS[tool] })
  }
  const headers = await access(LIBC_HEADER.file).then(
    () => true,
    () => false,
  )
  if (!headers) missing.push({ what: LIBC_HEADER.file, package: LIBC_HEADER.package })
  return missing
}

/** The packages that provide what findMissingKernelBuildTools found missing, for one apt-get line. */
export function missingPackages(missing: readonly MissingTool[]): string {
  return [...new Set(missing.map((tool) => tool.package))].join(' ')
}
