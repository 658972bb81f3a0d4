import { writeFile } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'

/*
 * Where the kernel schedules each session as a group of its own (CONFIG_SCHED_AUTOGROUP, on in
 * Debian's and Ubuntu's kernels), niceness ranks only within a group: a process in a session of its
 * own takes a full share beside everything else, whatever `nice` said (a build under `nice -n 19`
 * took two thirds of a busy machine). The group is given the niceness as a whole, through
 * /proc/PID/autogroup. Without CAP_SYS_ADMIN the kernel takes one such write per 100 ms on the whole
 * machine and refuses the others (EAGAIN), so a write is tried for a second.
 */
const TRIES = 10
const TRY_INTERVAL_MS = 100

/** Gives the session of `pid` the niceness `nice`; nothing where the kernel has no autogroups or the process is gone. */
export async function niceAutogroup(pid: number, nice: number): Promise<void> {
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const error = await writeFile(`/proc/${pid}/autogroup`, String(nice)).then(
      () => undefined,
      (caught: NodeJS.ErrnoException) => caught,
    )
    if (error?.code !== 'EAGAIN') return
    await delay(TRY_INTERVAL_MS * (1 + Math.random()))
  }
}

/** The same for a shell that has just started a session of its own: gives its group the niceness it inherited. */
export const NICE_OWN_AUTOGROUP_SHELL = [
  'n=$(nice)',
  `if [ "$n" -gt 0 ] && [ -e /proc/self/autogroup ]; then for try in ${Array.from({ length: TRIES }, (_, i) => i + 1).join(' ')}; do`,
  `{ echo "$n" >/proc/self/autogroup; } 2>/dev/null && break; sleep ${TRY_INTERVAL_MS / 1000}; done; fi`,
].join('\n')
