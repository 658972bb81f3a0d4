import { z } from 'zod'

/** Options every command that boots a guest takes. */
export const guestFlags = {
  kernel: { type: 'string' },
  image: { type: 'string' },
  memory: { type: 'string' },
} as const

export const guestFlagsSchema = z.object({
  kernel: z.string().optional(),
  image: z.string().optional(),
  memory: z.coerce
    .number({ error: 'takes a whole number of MiB, for example 512' })
    .int('takes a whole number of MiB')
    .min(64, 'at least 64 (MiB)')
    .optional(),
})

export type GuestFlags = z.output<typeof guestFlagsSchema>
