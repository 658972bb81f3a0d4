import { getPriority } from 'node:os'
import { niceAutogroup } from '../core/index.js'
import { findUmlProcessGroup } from './uml-process-group.js'

/**
 * Gives a guest this process's niceness: bubblewrap starts the kernel in a session of its own,
 * which is a scheduling group of its own (core/autogroup.ts), so `nice vitest` would not reach it.
 * Guest root can set its group back to 0 (not lower), so this is a courtesy to the machine, not a
 * limit on a guest.
 */
export async function keepNiceness(sandboxPid: number): Promise<void> {
  const nice = getPriority()
  if (nice <= 0) return
  const kernel = await findUmlProcessGroup(sandboxPid)
  if (kernel !== undefined) await niceAutogroup(kernel, nice)
}
