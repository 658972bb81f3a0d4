/**
 * The end (one past the closing backtick) of a template literal starting at `start`, if it is one
 * without substitutions: text that can hold only a string, never code. Undefined otherwise.
 */
export function templateLiteralEnd(code: string, start: number): number | undefined {
  if (code[start] !== '`') return undefined
  for (let index = start + 1; index < code.length; index++) {
    const char = code[index]
    if (char === '\\') index++
    else if (char === '`') return index + 1
    else if (char === '$' && code[index + 1] === '{') return undefined
  }
  return undefined
}
