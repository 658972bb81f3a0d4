/** Where os-release(5) may be, in the order it is looked for. */
export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release']

/**
 * Parses os-release(5): `KEY=value` lines, values optionally quoted with shell-style escapes. Shared
 * by the agent (the guest's `ready` message) and the image builder (an image's metadata), so an
 * image's fields read the same from either side.
 */
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
