import { userInfo } from 'node:os'
import { requireHostTool, UmlError } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'
import type { ImageFailureCode } from './run-tool.js'

/**
 * The command prefix under which files get the owners the root file system asks for. Root needs
 * none. Any other user extracts and runs mke2fs as root of a user namespace whose ids 1..65535
 * map to the user's subordinate ids: there chown works, and mke2fs -d records the owners as seen
 * inside. Checked up front so a missing /etc/subuid entry fails fast with the fix.
 */
export async function rootfsOwnerPrefix(failureCode: ImageFailureCode): Promise<string[]> {
  if (process.getuid?.() === 0) return []
  const why = 'to give image files their owners without host root'
  const prefix = [await requireHostTool('unshare', why), '--map-auto', '--map-root-user', '--']
  await requireHostTool('newuidmap', why)
  const { execa } = await loadExeca()
  const probe = await execa(prefix[0]!, [...prefix.slice(1), 'true'], { reject: false, stdin: 'ignore' })
  if (probe.failed) {
    const user = userInfo().username
    throw new UmlError(
      failureCode,
      `Cannot enter a user namespace with your subordinate ids (${String(probe.stderr).trim() || probe.shortMessage}). Building images without root needs them: run \`sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}\` (or add ${user} to /etc/subuid and /etc/subgid), and make sure unprivileged user namespaces are enabled.`,
      { cause: probe, details: { user, stderr: probe.stderr } },
    )
  }
  return prefix
}

/** `command args` under `prefix` as execa's file and arguments. */
export function withPrefix(prefix: string[], command: string, args: string[]): [string, string[]] {
  const [first, ...rest] = prefix
  return first === undefined ? [command, args] : [first, [...rest, command, ...args]]
}
