import { z } from 'zod'

/** One pinned .deb, as the suite's Packages index describes it. */
export const debPinSchema = z.object({
  package: z.string().min(1),
  version: z.string().min(1),
  filename: z.string().regex(/^pool\/\S+\.deb$/, 'must be a pool path ending in .deb'),
  size: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
})

export const kernelPinSchema = z.object({
  suite: z.string().min(1),
  /** The oldest glibc the kernel binary links against (its libc6 dependency). */
  minGlibc: z.string().regex(/^\d+\.\d+$/),
  /** Names a set of pinned C libraries in `libs`; without it the kernel uses the host's. */
  libs: z.string().optional(),
  deb: debPinSchema,
})

/** A Debian `linux-source-<version>` package, to build kernels from. */
export const sourcePinSchema = z.object({
  suite: z.string().min(1),
  deb: debPinSchema,
  /** The source tarball inside the package. */
  tarball: z
    .string()
    .regex(/^usr\/src\/linux-source-[\d.]+\.tar\.xz$/, 'must be usr/src/linux-source-<version>.tar.xz'),
})

const versionName = (example: string) => z.string().regex(/^\d+\.\d+$/, `names look like "${example}"`)

export const manifestSchema = z
  .object({
    default: z.string(),
    kernels: z.record(versionName('7.2'), kernelPinSchema),
    libs: z.record(z.string(), z.array(debPinSchema).min(1)),
    /** The source a kernel recipe builds from when it names none. */
    defaultSource: z.string(),
    sources: z.record(versionName('7.2'), sourcePinSchema),
  })
  .superRefine((manifest, ctx) => {
    if (!(manifest.defaultSource in manifest.sources)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultSource'],
        message: `"${manifest.defaultSource}" is not a pinned source`,
      })
    }
    if (!(manifest.default in manifest.kernels)) {
      ctx.addIssue({ code: 'custom', path: ['default'], message: `"${manifest.default}" is not a pinned kernel` })
    }
    for (const [name, pin] of Object.entries(manifest.kernels)) {
      if (pin.libs !== undefined && !(pin.libs in manifest.libs)) {
        ctx.addIssue({ code: 'custom', path: ['kernels', name, 'libs'], message: `no lib set named "${pin.libs}"` })
      }
    }
  })

export type DebPin = z.infer<typeof debPinSchema>
export type KernelPin = z.infer<typeof kernelPinSchema>
export type SourcePin = z.infer<typeof sourcePinSchema>
export type Manifest = z.infer<typeof manifestSchema>
