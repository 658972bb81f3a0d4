/** Variables that point programs (apt, curl, npm, pip) at the network option's allow-list proxy. */
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'no_proxy']

/** The proxy settings init exported (network-up.sh), for every command the agent starts. */
export function proxyEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of PROXY_VARIABLES) {
    const value = process.env[name]
    if (value) env[name] = value
  }
  return env
}
