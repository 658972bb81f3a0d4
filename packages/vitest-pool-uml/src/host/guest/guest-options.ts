import { z } from 'zod'
import { hostMemoryMiB, parseOptions } from '../core/index.js'
import { networkSchema } from './network/network-options.js'

/** What a guest gets unless told otherwise; the pool's options default to the same. */
export const GUEST_DEFAULTS = {
  /**
   * Guest memory in MiB: 1 GiB, or the host's memory where that is less. Node sizes its heap by
   * the machine's memory (half of it in a guest): 509 MiB here, where 512 MiB gave 259. Memory a
   * guest never touches costs the host only the kernel's `struct page` array, which every boot
   * writes: 16 MiB per GiB, so an idle guest holds 32 MiB at 1 GiB and 48 MiB at 2 GiB.
   */
  memoryMiB: Math.min(1024, hostMemoryMiB()),
  /** The image's own size: the guest's file system fills (ENOSPC) before its copy-on-write layer. */
  diskMiB: 4096,
  bootTimeoutMs: 60_000,
} as const

export const shareSchema = z.object({
  /** Host directory to expose. */
  hostPath: z.string().startsWith('/', 'must be an absolute path'),
  /** Where the guest sees it; the same path as on the host by default, so paths mean the same on both sides. */
  guestPath: z.string().startsWith('/', 'must be an absolute path').optional(),
  /** Read-only unless set. */
  writable: z.boolean().default(false),
  /**
   * Read-only on the host but writable in the guest: what the guest writes goes to a layer on its
   * own disk (overlayfs) and is gone with it. Ignored when `writable` is set.
   */
  copyOnWrite: z.boolean().default(false),
  /** Paths in it the guest must not see (relative): each shows empty, a file as an empty file, a directory as an empty one. */
  hidden: z
    .array(
      z.object({
        path: z
          .string()
          .refine((path) => !path.startsWith('/') && !path.split('/').includes('..'), 'a path inside the share'),
        directory: z.boolean(),
      }),
    )
    .default([]),
})

export const guestOptionsSchema = z.object({
  /** A prepared kernel: its cache entry and whether it runs guest programs with SECCOMP. */
  kernel: z.object({
    name: z.string(),
    dir: z.string(),
    supportsSeccomp: z.boolean(),
    /** Built with CONFIG_UML_TIME_TRAVEL_SUPPORT, which `time: 'virtual'` needs. */
    supportsTimeTravel: z.boolean().default(false),
  }),
  /** The read-only base image (ext4). Each guest writes to its own COW layer over it. */
  imagePath: z.string(),
  /** Guest memory in MiB, at most the host's. Host memory is used as the guest touches it, and 16 MiB per GiB at boot. */
  memoryMiB: z.number().int().min(64).default(GUEST_DEFAULTS.memoryMiB),
  /** Most the guest may write to its disk, in MiB (the COW layer lives in host memory). */
  diskMiB: z.number().int().min(16).default(GUEST_DEFAULTS.diskMiB),
  /** Host directories the guest mounts over hostfs. */
  shares: z.array(shareSchema).default([]),
  /** How long to wait for the agent to report ready. */
  bootTimeoutMs: z.number().int().positive().default(GUEST_DEFAULTS.bootTimeoutMs),
  /** Use SECCOMP instead of ptrace for guest processes where the kernel can (much faster; trusts guest programs). */
  seccomp: z.boolean().default(true),
  /**
   * Run all of the guest's host processes on one CPU, the one with the fewest such guests (see
   * guest-cpu.ts): faster while guests do not outnumber the CPUs. Off where guests come and go in
   * greater numbers, whose fixed places would crowd some CPUs while others idle.
   */
  pinCpu: z.boolean().default(true),
  /**
   * Boot straight from the image and write to it, without a copy-on-write layer: for building a
   * derived image from a private copy, never for a base that guests share.
   */
  imageWritable: z.boolean().default(false),
  /**
   * The guest's network: `false` (loopback only), `true` (outbound TCP/UDP and DNS through a
   * user-mode stack on the host), or `{ allow, forward }` (see network-options.ts).
   */
  network: networkSchema.default(false),
  /**
   * `virtual`: the guest runs in UML's time-travel mode, where an idle guest jumps to its next
   * timer instead of waiting for it (`sleep 3600` returns at once). Needs a kernel built with it.
   */
  time: z.enum(['real', 'virtual']).default('real'),
  /** The date the guest's clock starts at, instead of the host's. */
  clock: z.date().optional(),
  /** Extra kernel arguments, appended last (for debugging). */
  extraKernelArgs: z.array(z.string()).default([]),
  /**
   * Most host memory mappings a process of the guest may hold before the guest is stopped with
   * UML_GUEST_MAP_LIMIT; the host's vm.max_map_count by default (lower only to test that check).
   */
  mapLimit: z.number().int().positive().optional(),
  /** Where the guest Node runtime is cached. */
  cacheDir: z.string(),
})

export type GuestOptions = z.input<typeof guestOptionsSchema>
export type ResolvedGuestOptions = z.output<typeof guestOptionsSchema>

/** What a guest takes of a prepared kernel (a kernel's cache entry describes more). */
export function guestKernel(kernel: ResolvedGuestOptions['kernel']): ResolvedGuestOptions['kernel'] {
  const { name, dir, supportsSeccomp, supportsTimeTravel } = kernel
  return { name, dir, supportsSeccomp, supportsTimeTravel }
}
export type Share = z.input<typeof shareSchema>

/** Validates a guest's options at the API's edge (Guest.boot, runShell). */
export function parseGuestOptions(input: GuestOptions): ResolvedGuestOptions {
  return parseOptions(guestOptionsSchema, input, { subject: 'Invalid guest options', fix: 'Fix them and retry.' })
}
