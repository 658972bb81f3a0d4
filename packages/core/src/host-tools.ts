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
  setpriv: 'util-linux',
  rm: 'coreutils',
  newuidmap: 'uidmap',
} as const

export type HostTool = keyof typeof HOST_TOOLS

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
    `${tool} is not installed, and vitest-uml needs it ${why}. Install it with: apt-get install ${HOST_TOOLS[tool]}`,
    { details: { tool, package: HOST_TOOLS[tool] } },
  )
}
