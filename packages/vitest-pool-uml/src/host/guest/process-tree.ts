import { readdir, readFile } from 'node:fs/promises'
import { statFields, USER_HZ } from '../core/index.js'

/** A process and all its descendants still running, parents first. */
export async function processTreePids(pid: number): Promise<number[]> {
  const threads = await readdir(`/proc/${pid}/task`).catch(() => [])
  if (threads.length === 0) return []
  const lists = await Promise.all(
    threads.map((tid) => readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '')),
  )
  const children = lists.flatMap((list) => list.split(' ').filter(Boolean).map(Number))
  return [pid, ...(await Promise.all(children.map(processTreePids))).flat()]
}

/**
 * CPU time, in ms, that a process and its descendants used so far: their own user and system time
 * and what their reaped children used. For a guest that is the UML kernel and every guest program.
 */
export async function processTreeCpuMs(pid: number): Promise<number> {
  let ticks = 0
  // Children before their parents: one that ends after it was read was counted, and one that ended
  // before is in its parent's reaped children's time, read after. Parents first lost the time of
  // every process that ended between the two reads, which made a file's guest CPU come out negative.
  for (const member of (await processTreePids(pid)).reverse()) {
    const stat = await readFile(`/proc/${member}/stat`, 'utf8').catch(() => undefined)
    if (stat === undefined) continue
    // utime, stime, cutime and cstime (fields 14 to 17) are the 12th to 15th after the name.
    ticks += statFields(stat)
      .slice(11, 15)
      .reduce((sum, field) => sum + Number(field), 0)
  }
  return (ticks * 1000) / USER_HZ
}
