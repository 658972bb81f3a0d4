import { z } from 'zod'
import { cacheDirSchema, parseOptions } from '../core/index.js'

export const cacheOptionsSchema = z.object({ cacheDir: cacheDirSchema.optional() })

/** Parses the options of one of this package's functions at its edge, naming the function when they are wrong. */
export function validateOptions<T extends z.ZodType>(schema: T, input: unknown, where: string): z.output<T> {
  return parseOptions(schema, input ?? {}, { subject: `Invalid options for ${where}()`, fix: 'Fix them and retry.' })
}
