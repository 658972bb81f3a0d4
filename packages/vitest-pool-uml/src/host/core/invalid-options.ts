import type { z } from 'zod'
import { type OptionIssue, UmlError, type UmlErrorDetails } from './errors.js'

export interface InvalidOptionsMessage {
  /** What is invalid: "Invalid vitest-pool-uml options in /p/vitest.config.ts". */
  subject: string
  /** What to do about it, after the problems. */
  fix: string
  /** How a field is named to the user; its dotted path by default, nothing for the input as a whole. */
  field?: (path: readonly PropertyKey[]) => string | undefined
  /** Words for an issue other than `<field>: <message>` (several problems, or none to keep the default). */
  describe?: (issue: z.core.$ZodIssue) => string[] | undefined
  details?: Omit<UmlErrorDetails['UML_INVALID_OPTIONS'], 'issues'>
}

/**
 * The UML_INVALID_OPTIONS error for what zod found wrong with an input (or, as a string, what
 * was found before zod could look: unparsable text): one problem inline, several as a list, then
 * the fix. The one format for bad options, arguments and files.
 */
export function invalidOptionsError(
  found: readonly z.core.$ZodIssue[] | string,
  message: InvalidOptionsMessage,
): UmlError<'UML_INVALID_OPTIONS'> {
  const issues = typeof found === 'string' ? [] : found
  const problems = typeof found === 'string' ? [found] : describeIssues(issues, message)
  const body =
    problems.length === 1 ? ` ${problems[0]}. ` : `\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n`
  return new UmlError('UML_INVALID_OPTIONS', `${message.subject}:${body}${message.fix}`, {
    details: { ...message.details, issues: issues as readonly OptionIssue[] },
  })
}

/** Each issue as `<field>: <message>` (the field by its dotted path unless `field` names it), or as `describe` words it. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  { field = dottedPath, describe }: Pick<InvalidOptionsMessage, 'field' | 'describe'> = {},
): string[] {
  return issues.flatMap((issue) => {
    const described = describe?.(issue)
    if (described) return described
    const name = field(issue.path)
    return [name ? `${name}: ${issue.message}` : issue.message]
  })
}

function dottedPath(path: readonly PropertyKey[]): string | undefined {
  return path.length > 0 ? path.join('.') : undefined
}

/** Parses an input at the edge; anything wrong is thrown as invalidOptionsError. */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  message: InvalidOptionsMessage,
): z.output<Schema> {
  const result = schema.safeParse(input)
  if (result.success) return result.data
  throw invalidOptionsError(result.error.issues, message)
}
