import { NICE_OWN_AUTOGROUP_SHELL } from './autogroup.js'
import { requireHostTool } from './host-tools.js'

/**
 * A command line that runs `command` under a shell that kills the command's whole process group
 * when this process dies, however it dies (setpriv's parent-death signal reaches the shell, not
 * the command's children). Spawn it detached, so the group is its own: a killed run then leaves
 * no mmdebstrap, apt, tar, make or compiler running on.
 *
 * A session of its own is also a scheduling group of its own (autogroup.ts): the shell gives it
 * the niceness it inherited.
 */
export async function diesWithParent(
  command: string,
  args: readonly string[],
  why: string,
): Promise<[string, string[]]> {
  const setpriv = await requireHostTool('setpriv', why)
  const shell = `${NICE_OWN_AUTOGROUP_SHELL}\ntrap "kill -KILL 0" TERM; "$@" & wait $!`
  return [setpriv, ['--pdeathsig', 'TERM', '--', 'sh', '-c', shell, 'sh', command, ...args]]
}
