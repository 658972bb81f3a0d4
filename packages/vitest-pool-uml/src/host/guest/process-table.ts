import { readdirSync, readFileSync } from 'node:fs'
import { statFields } from '../core/index.js'

/** A process as /proc/PID/stat names it. */
export interface ProcessEntry {
  /** The command name (comm), such as `linux` for a UML kernel. */
  name: string
  parent: number
}

/**
 * Every process on the machine, by PID. Read synchronously: a few microseconds a process, where
 * the thread pool's round trips cost more.
 */
export function readProcessTable(): Map<number, ProcessEntry> {
  const processes = new Map<number, ProcessEntry>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readProc(Number(entry), 'stat')
    if (stat === undefined) continue
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
    processes.set(Number(entry), { name, parent: Number(statFields(stat)[1]) })
  }
  return processes
}

/** The ancestors of a process in `processes`, nearest first, at most `limit` of them. */
export function ancestors(pid: number, processes: ReadonlyMap<number, ProcessEntry>, limit: number): number[] {
  const found: number[] = []
  for (let current = processes.get(pid)?.parent; current && found.length < limit; ) {
    found.push(current)
    current = processes.get(current)?.parent
  }
  return found
}

/** A file of /proc/PID, undefined once the process has ended (or when it may not be read). */
export function readProc(pid: number | 'self', file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return undefined
  }
}
