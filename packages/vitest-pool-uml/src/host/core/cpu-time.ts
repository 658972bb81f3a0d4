import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
export const USER_HZ = 100

/** The fields of a /proc/<pid>/stat line after the command name, which may hold spaces and parentheses. */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/**
 * CPU time, in ms, that this process's reaped children (and their reaped children) used: the
 * cutime and cstime of /proc/self/stat, fields 16 and 17 (the 14th and 15th after the name).
 */
export function reapedChildrenCpuMs(): number {
  const fields = statFields(readFileSync('/proc/self/stat', 'utf8'))
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ
}
