import { type ParseArgsConfig, parseArgs } from 'node:util'
import { UmlError } from '@vitest-uml/core'
import type { z } from 'zod'

type Options = NonNullable<ParseArgsConfig['options']>

/**
 * Parses one command's arguments (strictly: unknown options are errors) and validates the result
 * with the command's schema, so every command gets typed, checked input or a coded usage error.
 */
export function parseCommandArgs<Schema extends z.ZodType>(
  command: string,
  args: string[],
  options: Options,
  schema: Schema,
): z.output<Schema> {
  let parsed: { values: Record<string, unknown>; positionals: string[] }
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UmlError(
      'UML_INVALID_OPTIONS',
      `vitest-uml ${command}: ${(error as Error).message}. See \`vitest-uml --help\`.`,
      { cause: error },
    )
  }
  const result = schema.safeParse({ ...parsed.values, positionals: parsed.positionals })
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || 'arguments'}: ${issue.message}`)
    throw new UmlError(
      'UML_INVALID_OPTIONS',
      `vitest-uml ${command}: ${problems.join('; ')}. See \`vitest-uml --help\`.`,
    )
  }
  return result.data
}
