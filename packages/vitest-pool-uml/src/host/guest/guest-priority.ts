import { writeFile } from 'node:fs/promises'
import { getPriority } from 'node:os'
import { setTimeout as delay } from 'node:timers/promises'
import { findUmlProcessGroup } from './uml-process-group.js'

/** Tries at writing a group's niceness: without CAP_SYS_ADMIN the kernel takes one per 100 ms on the machine. */
const TRIES = 10
const TRY_INTERVAL_MS = 100

/**
 * Gives a guest this process's niceness. bubblewrap starts the kernel in a session of its own, and
 * where the kernel schedules sessions as groups (autogroup, on in Debian's and Ubuntu's kernels)
 * niceness ranks only within a group: a guest of `nice vitest` would take a full share beside
 * everything else on the machine. The group is given the niceness as a whole. Guest root can set
 * its group back to 0 (not lower), so this is a courtesy to the machine, not a limit on a guest.
 */
export async function keepNiceness(sandboxPid: number): Promise<void> {
  const nice = getPriority()
  if (nice <= 0) return
  const kernel = await findUmlProcessGroup(sandboxPid)
  if (kernel === undefined) return
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const error = await writeFile(`/proc/${kernel}/autogroup`, String(nice)).then(
      () => undefined,
      (caught: NodeJS.ErrnoException) => caught,
    )
    // Done, or nothing to do: a kernel without autogroups has no such file, and a guest may be gone.
    if (error?.code !== 'EAGAIN') return
    await delay(TRY_INTERVAL_MS * (1 + Math.random()))
  }
}
