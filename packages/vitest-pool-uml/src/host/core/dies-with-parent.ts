import { requireHostTool } from './host-tools.js'

/**
 * A command line that runs `command` under a shell that kills the command's whole process group
 * when this process dies, however it dies (setpriv's parent-death signal reaches the shell, not
 * the command's children). Spawn it detached, so the group is its own: a killed run then leaves
 * no mmdebstrap, apt, tar, make or compiler running on.
 *
 * A session of its own is also a scheduling group of its own where the kernel groups by session
 * (CONFIG_SCHED_AUTOGROUP, on in Debian's and Ubuntu's kernels), and niceness then ranks only
 * within the group: a build under `nice -n 19` took two thirds of a busy machine. The shell gives
 * its group the niceness it inherited, trying for a second: without CAP_SYS_ADMIN the kernel takes
 * one such write per 100 ms on the whole machine.
 */
export async function diesWithParent(
  command: string,
  args: readonly string[],
  why: string,
): Promise<[string, string[]]> {
  const setpriv = await requireHostTool('setpriv', why)
  const shell = [
    'n=$(nice)',
    'if [ "$n" -gt 0 ] && [ -e /proc/self/autogroup ]; then for try in 1 2 3 4 5 6 7 8 9 10; do',
    '{ echo "$n" >/proc/self/autogroup; } 2>/dev/null && break; sleep 0.1; done; fi',
    'trap "kill -KILL 0" TERM; "$@" & wait $!',
  ].join('\n')
  return [setpriv, ['--pdeathsig', 'TERM', '--', 'sh', '-c', shell, 'sh', command, ...args]]
}
