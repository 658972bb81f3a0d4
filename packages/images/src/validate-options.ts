import { type Progress, UmlError } from '@vitest-uml/core'
import { z } from 'zod'

export const progressSchema = z.custom<Progress>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['start', 'update', 'end'].every((method) => typeof (value as Record<string, unknown>)[method] === 'function'),
  'a Progress object with start, update and end methods',
)

export const cacheDirSchema = z.string().startsWith('/', 'an absolute path')

export const cacheOptionsSchema = z.object({ cacheDir: cacheDirSchema.optional() })

/** Parses options at the API's edge; anything wrong is a UML_INVALID_OPTIONS naming each field. */
export function validateOptions<T extends z.ZodType>(schema: T, input: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(input ?? {})
  if (parsed.success) return parsed.data
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(options)'}: ${issue.message}`)
  throw new UmlError('UML_INVALID_OPTIONS', `Invalid options for ${where}: ${issues.join('; ')}. Fix them and retry.`, {
    details: { issues: parsed.error.issues },
  })
}
