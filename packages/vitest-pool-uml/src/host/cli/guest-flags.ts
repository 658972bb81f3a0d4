import { z } from 'zod'
import { allowEntrySchema, forwardPairSchema, type NetworkOption } from '../guest/index.js'

/** Options every command that boots a guest takes. */
export const guestFlags = {
  kernel: { type: 'string' },
  image: { type: 'string' },
  memory: { type: 'string' },
  network: { type: 'boolean' },
  allow: { type: 'string', multiple: true },
  forward: { type: 'string', multiple: true },
  time: { type: 'string' },
  clock: { type: 'string' },
} as const

const forwardFlag = z
  .string()
  .regex(/^\d+(:\d+)?$/, 'takes PORT or GUESTPORT:HOSTPORT, for example 8080:3000')
  .transform((value) => {
    const [guest, host = guest] = value.split(':').map(Number) as [number, number?]
    return { guest, host }
  })
  .pipe(forwardPairSchema)

export const guestFlagsSchema = z.object({
  kernel: z.string().optional(),
  image: z.string().optional(),
  memory: z.coerce
    .number({ error: 'takes a whole number of MiB, for example 512' })
    .int('takes a whole number of MiB')
    .min(64, 'at least 64 (MiB)')
    .optional(),
  network: z.boolean().optional(),
  allow: z.array(allowEntrySchema).optional(),
  forward: z.array(forwardFlag).optional(),
  time: z
    .enum(['real', 'virtual'], {
      error: 'takes real or virtual (virtual needs a kernel built with time travel, such as custom-7.2)',
    })
    .optional(),
  clock: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)), 'takes a date such as 2038-01-19T03:14:08Z')
    .transform((value) => new Date(value))
    .optional(),
})

export type GuestFlags = z.output<typeof guestFlagsSchema>

/**
 * The guest's network option from the flags: `--network` alone is the whole network; `--allow
 * HOST` (repeatable) only those hosts; `--forward 8080:3000` a host port, with or without either.
 */
export function networkOption({ network, allow, forward }: GuestFlags): NetworkOption {
  if (!allow && !forward) return network ?? false
  return { allow: allow ?? (network ? ['*'] : []), ...(forward && { forward }) }
}
