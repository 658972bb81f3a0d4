import { ancestors, readProc, readProcessTable } from './process-table.js'

/** How far up the parent chain a marker is looked for (bwrap sits a few levels above UML). */
const MAX_ANCESTORS = 16

/** How the processes of a guest's sandbox and of its network helper's sandbox start. */
const SANDBOXED_COMMANDS = ['/run/vitest-uml/kernel/linux\0', 'perl\0/relay.pl\0', 'slirp4netns\0']

/**
 * Sandboxed UML kernels and network helpers (relay, slirp4netns) still running that were started
 * under `NAME=value` in the environment: such processes whose parent chain holds a process (bwrap,
 * outside the sandbox, which keeps its environment) with that entry. Lets a test run or a stress run check that
 * its own guests are gone, whatever other guests the machine runs.
 */
export function listMarkedGuests(marker: string): string[] {
  const processes = readProcessTable()
  const found: string[] = []
  for (const pid of processes.keys()) {
    const cmdline = readProc(pid, 'cmdline')
    if (!cmdline || !SANDBOXED_COMMANDS.some((start) => cmdline.startsWith(start))) continue
    const chain = [pid, ...ancestors(pid, processes, MAX_ANCESTORS)]
    if (chain.some((member) => readProc(member, 'environ')?.split('\0').includes(marker))) {
      found.push(`${pid} ${cmdline.replaceAll('\0', ' ').trim()}`)
    }
  }
  return found
}
