import { writeFile } from 'node:fs/promises'
import { getPriority } from 'node:os'
import { findUmlProcessGroup } from './uml-process-group.js'

/**
 * Gives a guest this process's niceness. bubblewrap starts the kernel in a session of its own, and
 * where the kernel schedules sessions as groups (autogroup, on in Debian's and Ubuntu's kernels)
 * niceness ranks only within a group: a guest of `nice vitest` would take a full share beside
 * everything else on the machine. The group is given the niceness as a whole.
 */
export async function keepNiceness(sandboxPid: number): Promise<void> {
  const nice = getPriority()
  if (nice <= 0) return
  const kernel = await findUmlProcessGroup(sandboxPid)
  // A kernel without autogroups has no such file; a guest gone meanwhile needs nothing.
  if (kernel !== undefined) await writeFile(`/proc/${kernel}/autogroup`, String(nice)).catch(() => {})
}
