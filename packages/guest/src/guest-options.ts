import { z } from 'zod'

export const shareSchema = z.object({
  /** Host directory to expose. */
  hostPath: z.string().startsWith('/', 'must be an absolute path'),
  /** Where the guest sees it; the same path as on the host by default, so paths mean the same on both sides. */
  guestPath: z.string().startsWith('/', 'must be an absolute path').optional(),
  /** Read-only unless set. */
  writable: z.boolean().default(false),
})

export const guestOptionsSchema = z.object({
  /** A prepared kernel: its cache entry and whether it runs guest programs with SECCOMP. */
  kernel: z.object({
    name: z.string(),
    dir: z.string(),
    supportsSeccomp: z.boolean(),
  }),
  /** The read-only base image (ext4). Each guest writes to its own COW layer over it. */
  imagePath: z.string(),
  /** Guest memory in MiB, at most the host's. Host memory is only used as the guest touches it. */
  memoryMiB: z.number().int().min(64).default(512),
  /** Most the guest may write to its disk, in MiB (the COW layer lives in host memory). */
  diskMiB: z.number().int().min(16).default(4096),
  /** Host directories the guest mounts over hostfs. */
  shares: z.array(shareSchema).default([]),
  /** How long to wait for the agent to report ready. */
  bootTimeoutMs: z.number().int().positive().default(60_000),
  /** Use SECCOMP instead of ptrace for guest processes where the kernel can (much faster; trusts guest programs). */
  seccomp: z.boolean().default(true),
  /**
   * Boot straight from the image and write to it, without a copy-on-write layer: for building a
   * derived image from a private copy, never for a base that guests share.
   */
  imageWritable: z.boolean().default(false),
  /** Extra kernel arguments, appended last (for debugging). */
  extraKernelArgs: z.array(z.string()).default([]),
  /** Where the guest Node runtime is cached. */
  cacheDir: z.string(),
})

export type GuestOptions = z.input<typeof guestOptionsSchema>
export type ResolvedGuestOptions = z.output<typeof guestOptionsSchema>
export type Share = z.input<typeof shareSchema>
