import { constants } from 'node:os'
import { resolve } from 'node:path'
import { z } from 'zod'
import { UmlError } from '../../core/index.js'
import { Guest } from '../../guest/index.js'
import { guestFlags, guestFlagsSchema } from '../guest-flags.js'
import { parseCommandArgs } from '../parse-command-args.js'
import { prepareGuest } from '../prepare-guest.js'

const runSchema = guestFlagsSchema.extend({
  share: z
    .array(z.string())
    .default([])
    .transform((shares) =>
      shares.map((spec) => {
        const writable = spec.endsWith(':rw')
        return { hostPath: resolve(spec.replace(/:(rw|ro)$/, '')), writable }
      }),
    ),
  env: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'takes NAME=VALUE'))
    .default([])
    .transform((pairs) =>
      Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
    ),
  cwd: z.string().startsWith('/', 'must be an absolute path in the guest').optional(),
  positionals: z.array(z.string()).min(1, 'name the command to run after --, for example: vitest-uml run -- uname -a'),
})

/** The arguments of `vitest-uml run`, checked, with shares resolved and `--env` pairs as an object. */
export function parseRunArgs(args: string[]): z.output<typeof runSchema> {
  const options = {
    ...guestFlags,
    share: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    cwd: { type: 'string' },
  } as const
  return parseCommandArgs('run', args, options, runSchema)
}

/** `vitest-uml run -- <cmd...>`: runs one command as root in a fresh guest, exits with its status. */
export async function runCommand(args: string[]): Promise<number> {
  const flags = parseRunArgs(args)
  const guest = await Guest.boot(await prepareGuest(flags, flags.share))
  const interrupt = () => {
    void guest.dispose().then(() => process.exit(130))
  }
  process.once('SIGINT', interrupt)
  process.once('SIGTERM', interrupt)
  try {
    const result = await guest
      .exec(flags.positionals, {
        env: flags.env,
        ...(flags.cwd && { cwd: flags.cwd }),
        onStdout: (data) => process.stdout.write(data),
        onStderr: (data) => process.stderr.write(data),
      })
      .catch((error: Error) => {
        const shared = flags.share.some((share) => `${flags.cwd}/`.startsWith(`${share.hostPath}/`))
        if (!flags.cwd || shared || !/does not exist in the guest/.test(error.message)) throw error
        throw new UmlError(
          'UML_COMMAND_FAILED',
          `${error.message} Host directories are in a guest only when shared: add --share ${flags.cwd}.`,
          { cause: error, details: { command: flags.positionals[0] ?? '' } },
        )
      })
    if (result.exitCode !== null) return result.exitCode
    return 128 + (constants.signals[result.signal as NodeJS.Signals] ?? 0)
  } finally {
    process.off('SIGINT', interrupt)
    process.off('SIGTERM', interrupt)
    await guest.dispose()
  }
}
