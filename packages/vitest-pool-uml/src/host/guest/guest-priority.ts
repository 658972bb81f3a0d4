import { readFile } from 'node:fs/promises'
import { getPriority } from 'node:os'
import { niceAutogroup, statFields } from '../core/index.js'
import { processTreePids } from './process-tree.js'

/**
 * Gives what a sandbox runs this process's niceness: bubblewrap starts it in a session of its own
 * (`--new-session`; a UML kernel then makes another), and each session is a scheduling group of its
 * own (core/autogroup.ts), so `nice vitest` would not reach a guest's kernel or the network helper.
 * Guest root can set its group back to 0 (not lower), so for a guest this is a courtesy to the
 * machine, not a limit.
 */
export async function keepNiceness(sandboxPid: number): Promise<void> {
  const nice = getPriority()
  if (nice <= 0) return
  for (const member of await otherSessions(sandboxPid)) await niceAutogroup(member, nice)
}

/** A process of each session under `pid` other than this process's own (the 4th field of a stat). */
async function otherSessions(pid: number): Promise<number[]> {
  const session = async (member: number | 'self') =>
    readFile(`/proc/${member}/stat`, 'utf8').then(
      (stat) => statFields(stat)[3],
      () => undefined,
    )
  const own = await session('self')
  const members = new Map<string, number>()
  for (const member of await processTreePids(pid)) {
    const id = await session(member)
    if (id !== undefined && id !== own && !members.has(id)) members.set(id, member)
  }
  return [...members.values()]
}
