import { z } from 'zod'
import { UmlError } from '../../core/index.js'
import { runShell } from '../../guest/index.js'
import { guestFlags, guestFlagsSchema } from '../guest-flags.js'
import { parseCommandArgs } from '../parse-command-args.js'
import { prepareGuest } from '../prepare-guest.js'

const shellSchema = guestFlagsSchema.extend({ positionals: z.array(z.string()).max(0, 'shell takes no arguments') })

/** `vitest-uml shell`: a root login shell in a fresh guest on this terminal. */
export async function shellCommand(args: string[]): Promise<number> {
  const flags = parseCommandArgs('shell', args, guestFlags, shellSchema)
  if (!process.stdin.isTTY) {
    throw new UmlError(
      'UML_INVALID_OPTIONS',
      '`shell` needs a terminal on stdin; to script a guest, use `vitest-uml run -- sh -c "..."`.',
    )
  }
  const status = await runShell(await prepareGuest(flags))
  return status ?? 1
}
