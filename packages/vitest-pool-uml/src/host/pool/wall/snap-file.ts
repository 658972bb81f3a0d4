import { templateLiteralEnd } from './template-literal.js'

const ENTRY_START = 'exports['
const ENTRY_MIDDLE = '] = '

/**
 * The entries of a `.snap` file (`exports[\`name 1\`] = \`value\`;`, keys and values as written),
 * read without evaluating it; undefined for text that is not only such entries and comments.
 */
export function parseSnapFile(text: string): Map<string, string> | undefined {
  const entries = new Map<string, string>()
  let at = 0
  for (;;) {
    at = skipSpaceAndComments(text, at)
    if (at >= text.length) return entries
    if (!text.startsWith(ENTRY_START, at)) return undefined
    const keyStart = at + ENTRY_START.length
    const keyEnd = templateLiteralEnd(text, keyStart)
    if (keyEnd === undefined || !text.startsWith(ENTRY_MIDDLE, keyEnd)) return undefined
    const valueStart = keyEnd + ENTRY_MIDDLE.length
    const valueEnd = templateLiteralEnd(text, valueStart)
    if (valueEnd === undefined || text[valueEnd] !== ';') return undefined
    entries.set(text.slice(keyStart, keyEnd), text.slice(valueStart, valueEnd))
    at = valueEnd + 1
  }
}

/**
 * What keeps a `.snap` rewrite from being one that adds snapshots only (Vitest's default update
 * mode, `new`): an entry changed or removed, or text that is not a snapshot file. Undefined if none.
 */
export function checkSnapFileAddsOnly(oldText: string, newText: string): string | undefined {
  const before = parseSnapFile(oldText)
  const after = parseSnapFile(newText)
  if (!after) return 'it is not a snapshot file'
  if (!before) return 'the snapshot file on the host is not one vitest-uml can read, so it may only change with -u'
  for (const [key, value] of before) {
    if (!after.has(key)) return `it removes the snapshot ${key}, which needs -u`
    if (after.get(key) !== value) return `it changes the snapshot ${key}, which needs -u`
  }
  return undefined
}

function skipSpaceAndComments(text: string, start: number): number {
  let at = start
  for (;;) {
    while (at < text.length && /\s/.test(text[at] as string)) at++
    if (text.startsWith('//', at)) {
      const end = text.indexOf('\n', at)
      at = end === -1 ? text.length : end + 1
    } else return at
  }
}
