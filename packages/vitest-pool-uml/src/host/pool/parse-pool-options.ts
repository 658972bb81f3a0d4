import { parseOptions } from '../core/index.js'
import { poolOptionsSchema, type ResolvedPoolOptions, type UmlPoolOptions } from './pool-options.js'

/**
 * Validates the pool's options once, at the edge; a mistake is reported with the config file it
 * is in and what to change, and known keys are suggested for misspelled ones.
 */
export function parsePoolOptions(input: UmlPoolOptions, configFile: string | undefined): ResolvedPoolOptions {
  const known = Object.keys(poolOptionsSchema.shape)
  return parseOptions(poolOptionsSchema, input, {
    subject: `Invalid vitest-pool-uml options${configFile ? ` in ${configFile}` : ''}`,
    fix: `Known options: ${known.join(', ')}.`,
    describe: (issue) => {
      if (issue.code === 'unrecognized_keys' && issue.path.length === 0) {
        return issue.keys.map((key) => {
          const suggestion = known.find((name) => closeEnough(name, key))
          return `unknown option "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`
        })
      }
      // A bad record key (a kernel or image name) says why in its own issues.
      if (issue.code === 'invalid_key') {
        return [`${issue.path.join('.')}: ${issue.issues.map((inner) => inner.message).join('; ')}`]
      }
      return undefined
    },
    details: { configFile },
  })
}

/** Edit distance of at most two, or one name containing the other: a likely typo. */
function closeEnough(a: string, b: string): boolean {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  if (x.includes(y) || y.includes(x)) return true
  const row = Array.from({ length: y.length + 1 }, (_, index) => index)
  for (let i = 1; i <= x.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= y.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (x[i - 1] === y[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[y.length]! <= 2
}
