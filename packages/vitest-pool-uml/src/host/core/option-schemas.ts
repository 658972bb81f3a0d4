import { z } from 'zod'
import type { Progress } from './progress.js'

/** A Progress sink as an option: anything with start, update and end methods. */
export const progressSchema = z.custom<Progress>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['start', 'update', 'end'].every((method) => typeof (value as Record<string, unknown>)[method] === 'function'),
  'a Progress object with start, update and end methods',
)

/** A cache directory as an option: absolute, so it means the same whatever the working directory. */
export const cacheDirSchema = z.string().startsWith('/', 'an absolute path')
