import type { UmlErrorDetails } from '../core/index.js'
import type { Guest } from '../guest/index.js'

/** How much memory a guest had, and how much of it was still to be had (MemAvailable). */
export type GuestMemory = NonNullable<UmlErrorDetails['UML_GUEST_HUNG']['memory']>

/** How long a hung file's guest gets to say how full its memory is. */
const READ_WAIT_MS = 2000
/** /proc/meminfo is about 1.5 KB; a guest may write anything, so no more is taken. */
const MAX_MEMINFO_BYTES = 8192
/** Below this share available, a guest is filling its memory (earlyoom acts at a tenth). */
const LOW_SHARE = 1 / 8

/**
 * Reads the guest's /proc/meminfo, or undefined if it does not answer in time. Best effort, for an
 * error message: a guest filling its memory slows to a crawl (every page's first touch is a round
 * trip between host processes) long before its kernel kills anything, and looks hung.
 */
export async function readGuestMemory(guest: Guest): Promise<GuestMemory | undefined> {
  // The global timer, not timers/promises' delay: a test's fake clock drives only the former.
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), READ_WAIT_MS)
  })
  const read = guest
    .exec(['cat', '/proc/meminfo'], { maxOutputBytes: MAX_MEMINFO_BYTES })
    .then((result) => parseMeminfo(result.stdout))
    .catch(() => undefined)
  try {
    return await Promise.race([read, late])
  } finally {
    clearTimeout(timer)
  }
}

/** MemTotal and MemAvailable from /proc/meminfo's text (written by the guest, so checked). */
export function parseMeminfo(text: string): GuestMemory | undefined {
  const kib = (field: string) => {
    const value = Number(new RegExp(`^${field}:\\s+(\\d{1,12}) kB$`, 'm').exec(text)?.[1])
    return Number.isSafeInteger(value) ? value : undefined
  }
  const total = kib('MemTotal')
  const available = kib('MemAvailable')
  if (total === undefined || available === undefined || total === 0 || available > total) return undefined
  return { totalMiB: Math.round(total / 1024), availableMiB: Math.round(available / 1024) }
}

/** A sentence for a hung file's error when its guest was nearly out of memory, else ''. */
export function lowMemoryNote(memory: GuestMemory | undefined): string {
  if (!memory || memory.availableMiB >= memory.totalMiB * LOW_SHARE) return ''
  return ` Its guest had only ${memory.availableMiB} MiB of memory left (MemAvailable): a test filling memory slows to a crawl before the kernel's out-of-memory kill. Raise \`memory\` in the uml() options, or use less.`
}
