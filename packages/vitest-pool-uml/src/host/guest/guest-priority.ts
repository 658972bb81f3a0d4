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
  // Deepest first: the kernel's or the helper's own session matters most, and the kernel allows one
  // write per 100 ms on the whole machine.
  for (const leader of (await sessionLeaders(sandboxPid)).reverse()) {
    const group = await readFile(`/proc/${leader}/autogroup`, 'utf8').catch(() => undefined)
    if (group !== undefined && !group.trimEnd().endsWith(` nice ${nice}`)) await niceAutogroup(leader, nice)
  }
}

/**
 * The processes under `pid` that lead a session (the 4th field of a stat is the session's ID; a
 * PID that names a session is not reused while it does).
 */
async function sessionLeaders(pid: number): Promise<number[]> {
  const leaders: number[] = []
  for (const member of await processTreePids(pid)) {
    const stat = await readFile(`/proc/${member}/stat`, 'utf8').catch(() => undefined)
    if (stat !== undefined && Number(statFields(stat)[3]) === member) leaders.push(member)
  }
  return leaders
}
