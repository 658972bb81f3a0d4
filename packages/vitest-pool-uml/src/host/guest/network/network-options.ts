import { z } from 'zod'

const port = z.number().int().min(1, 'ports are 1 to 65535').max(65535, 'ports are 1 to 65535')

/** `host`, `host:port` or `*.domain` (any host under it), as written in `network.allow`. */
export const allowEntrySchema = z
  .string()
  .regex(
    /^(\*|(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)(:\d{1,5})?$/,
    "must be a host name or address, 'host:port', '*.domain' or '*'",
  )

/** A forwarded port pair: `guest` at the host's address in the guest, `host` on the host's loopback. */
export const forwardPairSchema = z.object({ guest: port, host: port }).strict()

const forwardEntry = z.union([port, forwardPairSchema])

/**
 * The `network` option. `false`: loopback only. `true`: outbound TCP and UDP through a user-mode
 * network stack, with DNS. An object: `allow` lists the only hosts the guest may reach, through
 * an HTTP(S) proxy on the host (`'*'` allows everything, as `true` does); `forward` makes ports
 * of the host's loopback reachable from the guest at the host's address there (10.0.2.2), `3000`
 * as itself or `{ guest: 80, host: 3000 }` under another port.
 */
export const networkSchema = z.union([
  z.boolean(),
  z.object({ allow: z.array(allowEntrySchema).optional(), forward: z.array(forwardEntry).optional() }).strict(),
])

export type NetworkOption = z.input<typeof networkSchema>

/** The network option in the form the rest of the code works with. */
export interface NetworkPolicy {
  /** Any destination but the host's own, through the user-mode stack, with DNS. */
  outbound: boolean
  /** Hosts the proxy lets through, when outbound is off; empty: none. */
  allow: AllowRule[]
  /** Guest port on the host's address -> port on the host's loopback. */
  forward: Map<number, number>
}

export interface AllowRule {
  /** Lower-case host name or address; `*.domain` matches any host under domain. */
  host: string
  /** Only this port, or any. */
  port?: number
}

/** Undefined for `false`: the guest gets no network card at all. */
export function resolveNetworkPolicy(option: z.output<typeof networkSchema>): NetworkPolicy | undefined {
  if (option === false) return undefined
  if (option === true) return { outbound: true, allow: [], forward: new Map() }
  const allow = (option.allow ?? []).map(parseAllowEntry)
  const forward = new Map<number, number>()
  for (const entry of option.forward ?? []) {
    const { guest, host } = typeof entry === 'number' ? { guest: entry, host: entry } : entry
    forward.set(guest, host)
  }
  return { outbound: allow.some((rule) => rule.host === '*' && rule.port === undefined), allow, forward }
}

function parseAllowEntry(entry: string): AllowRule {
  const [, host = '', port] = /^(.*?)(?::(\d+))?$/.exec(entry.toLowerCase()) ?? []
  return port === undefined ? { host } : { host, port: Number(port) }
}

/** Whether the allow-list lets the guest reach host:port. */
export function isAllowed(rules: AllowRule[], host: string, port: number): boolean {
  const name = host.toLowerCase().replace(/\.$/, '')
  return rules.some(
    (rule) =>
      (rule.port === undefined || rule.port === port) &&
      (rule.host === '*' || rule.host === name || (rule.host.startsWith('*.') && name.endsWith(rule.host.slice(1)))),
  )
}
