import { describe, expect, it } from 'vitest'
import { lowMemoryNote, parseMeminfo } from '../../../src/host/pool/guest-memory.js'

const MEMINFO = `MemTotal:         163840 kB
MemFree:            2908 kB
MemAvailable:      12288 kB
Buffers:               0 kB
Cached:            11760 kB
`

describe('guest memory', () => {
  it('reads MemTotal and MemAvailable from /proc/meminfo in MiB', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ totalMiB: 160, availableMiB: 12 })
  })

  it('takes nothing from text that is not a meminfo a kernel writes', () => {
    expect(parseMeminfo('')).toBeUndefined()
    expect(parseMeminfo('MemTotal: 1024 kB\n')).toBeUndefined()
    expect(parseMeminfo('MemTotal: 1024 kB\nMemAvailable: 2048 kB\n')).toBeUndefined()
    expect(parseMeminfo('MemTotal: 0 kB\nMemAvailable: 0 kB\n')).toBeUndefined()
    expect(parseMeminfo(`MemTotal: ${'9'.repeat(40)} kB\nMemAvailable: 1 kB\n`)).toBeUndefined()
    expect(parseMeminfo('MemTotal: -5 kB\nMemAvailable: 1 kB\n')).toBeUndefined()
  })

  it('says a guest was nearly out of memory only below an eighth available', () => {
    expect(lowMemoryNote({ totalMiB: 160, availableMiB: 12 })).toBe(
      " Its guest had only 12 MiB of memory left (MemAvailable): a test filling memory slows to a crawl before the kernel's out-of-memory kill. Raise `memory` in the uml() options, or use less.",
    )
    expect(lowMemoryNote({ totalMiB: 160, availableMiB: 20 })).toBe('')
    expect(lowMemoryNote(undefined)).toBe('')
  })
})
