/** One challenge of a `WWW-Authenticate` header: `Bearer realm="...",service="...",scope="..."`. */
export interface AuthChallenge {
  /** Lower-case: `bearer`, `basic`. */
  scheme: string
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/

/**
 * Parses a `WWW-Authenticate` header (RFC 9110 section 11.6.1), which may hold several challenges
 * separated by commas, each a scheme and `name=value` parameters, values quoted or not. A token
 * not followed by `=` starts the next challenge. Malformed rest is ignored, not guessed at.
 */
export function parseAuthChallenges(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = []
  let rest = header.trim()
  let current: AuthChallenge | undefined
  while (rest.length > 0) {
    rest = rest.replace(/^[\s,]+/, '')
    const token = TOKEN.exec(rest)?.[0]
    if (!token) break
    const afterToken = rest.slice(token.length).replace(/^\s+/, '')
    if (current && afterToken.startsWith('=') && !afterToken.startsWith('==')) {
      const [value, remaining] = readValue(afterToken.slice(1).replace(/^\s+/, ''))
      current.params[token.toLowerCase()] = value
      rest = remaining
      continue
    }
    current = { scheme: token.toLowerCase(), params: {} }
    challenges.push(current)
    rest = afterToken
    // token68 form (`Basic dXNlcjpwYXNz`-like): kept as the `token68` parameter.
    const token68 = /^[A-Za-z0-9._~+/-]+=*(?=\s*(,|$))/.exec(rest)
    if (token68 && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=[^=]/.test(rest)) {
      current.params.token68 = token68[0]
      rest = rest.slice(token68[0].length)
    }
  }
  return challenges
}

function readValue(text: string): [string, string] {
  if (!text.startsWith('"')) {
    const match = /^[^\s,]*/.exec(text)![0]
    return [match, text.slice(match.length)]
  }
  let value = ''
  for (let i = 1; i < text.length; i++) {
    const char = text[i]!
    if (char === '\\' && i + 1 < text.length) value += text[++i]
    else if (char === '"') return [value, text.slice(i + 1)]
    else value += char
  }
  return [value, '']
}
