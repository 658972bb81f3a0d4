/** Parses os-release(5): `KEY=value` lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z0-9_]+)=(.*)$/.exec(line.trim())
    if (!match) continue
    fields[match[1]!] = unquote(match[2]!)
  }
  return fields
}

function unquote(value: string): string {
  const quote = value[0]
  if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
    const inner = value.slice(1, -1)
    return quote === '"' ? inner.replace(/\\([$"`\\])/g, '$1') : inner
  }
  return value
}
