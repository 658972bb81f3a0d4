import { readFile } from 'node:fs/promises'
import { processTreePids } from './process-tree.js'

/** How often the sandbox's processes are checked. */
const CHECK_INTERVAL_MS = 1000
/** Mappings short of the limit that already count as reaching it (the stub keeps a few of its own). */
const LIMIT_MARGIN = 16

/** A host process of the guest that holds as many memory mappings as the host allows. */
export interface MapLimitReached {
  pid: number
  mappings: number
  limit: number
}

/** The host's most memory mappings per process (vm.max_map_count), or undefined where unreadable. */
export async function hostMapLimit(): Promise<number | undefined> {
  const text = await readFile('/proc/sys/vm/max_map_count', 'utf8').catch(() => undefined)
  return text === undefined ? undefined : Number(text.trim())
}

/**
 * Watches a guest's sandbox for a process at the host's limit of memory mappings. UML maps each
 * page of a guest process into its host process on its own, so a guest process that touches more
 * scattered memory than the limit allows (about 256 MiB at Debian's 65530) gets no mapping for the
 * next page: the guest kernel sees the page present, the host faults again, and the process spins
 * in page faults for ever. Calls `reached` once, and stops, when that happens.
 */
export function watchMapLimit(pid: number, limit: number, reached: (found: MapLimitReached) => void): () => void {
  let stopped = false
  const check = async () => {
    for (const member of await processTreePids(pid)) {
      // Resident pages bound the mappings from above (each maps at least one), and statm is cheap
      // to read where maps, with one line per mapping, is not.
      const resident = Number((await readFile(`/proc/${member}/statm`, 'utf8').catch(() => '')).split(' ')[1] ?? 0)
      if (resident < limit - LIMIT_MARGIN) continue
      const maps = await readFile(`/proc/${member}/maps`, 'utf8').catch(() => '')
      const mappings = maps.split('\n').length - 1
      if (mappings >= limit - LIMIT_MARGIN) return { pid: member, mappings, limit }
    }
    return undefined
  }
  const timer = setInterval(() => {
    void check().then((found) => {
      if (!found || stopped) return
      stop()
      reached(found)
    })
  }, CHECK_INTERVAL_MS)
  timer.unref()
  const stop = () => {
    stopped = true
    clearInterval(timer)
  }
  return stop
}
