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

export const manifestSchema = z
  .object({
    default: z.string(),
    kernels: z.record(z.string().regex(/^\d+\.\d+$/, 'kernel names look like "7.2"'), kernelPinSchema),
    libs: z.record(z.string(), z.array(debPinSchema).min(1)),
  })
  .superRefine((manifest, ctx) => {
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
export type Manifest = z.infer<typeof manifestSchema>
