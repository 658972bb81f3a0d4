import { readdir, readFile } from 'node:fs/promises'

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
export async function listMarkedGuests(marker: string): Promise<string[]> {
  const found: string[] = []
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const cmdline = await readProc(pid, 'cmdline')
    if (!cmdline || !SANDBOXED_COMMANDS.some((start) => cmdline.startsWith(start))) continue
    if (await hasMarkedAncestor(pid, marker)) found.push(`${pid} ${cmdline.replaceAll('\0', ' ').trim()}`)
  }
  return found
}

async function hasMarkedAncestor(pid: string, marker: string): Promise<boolean> {
  let current: string | undefined = pid
  for (let depth = 0; current && current !== '0' && depth < MAX_ANCESTORS; depth++) {
    if ((await readProc(current, 'environ'))?.split('\0').includes(marker)) return true
    current = /^PPid:\s+(\d+)/m.exec((await readProc(current, 'status')) ?? '')?.[1]
  }
  return false
}

async function readProc(pid: string, file: string): Promise<string | undefined> {
  return readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => undefined)
}
