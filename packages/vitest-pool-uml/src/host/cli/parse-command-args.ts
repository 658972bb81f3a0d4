import { type ParseArgsConfig, parseArgs } from 'node:util'
import type { z } from 'zod'
import { invalidOptionsError, parseOptions } from '../core/index.js'

type Options = NonNullable<ParseArgsConfig['options']>

/**
 * Parses one command's arguments (strictly: unknown options are errors) and validates the result
 * with the command's schema, so every command gets typed, checked input or a coded usage error
 * that names the flag as typed (`--memory`), never the field it is parsed into.
 */
export function parseCommandArgs<Schema extends z.ZodType>(
  command: string,
  args: string[],
  options: Options,
  schema: Schema,
): z.output<Schema> {
  const message = {
    subject: `Invalid arguments for \`${command}\``,
    fix: 'See `vitest-uml --help`.',
    field: ([name]: readonly PropertyKey[]) =>
      name === undefined || name === 'positionals' ? undefined : `--${String(name)}`,
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] }
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw invalidOptionsError((error as Error).message, message)
  }
  return parseOptions(schema, { ...parsed.values, positionals: parsed.positionals }, message)
}
