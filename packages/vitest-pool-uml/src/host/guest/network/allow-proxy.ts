import { lookup as dnsLookup } from 'node:dns'
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http'
import { BlockList, connect, type LookupFunction, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { deniedRanges, GUEST_NETWORK } from './guest-network.js'
import { type AllowRule, isAllowed } from './network-options.js'

/** Denials reported at most per guest; the rest are only refused. */
const MAX_REPORTS = 100
/** Headers of one hop, not passed on (RFC 9110 7.6.1), and the proxy's own. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

type Route = (host: string, port: number) => { host: string; port: number; lookup?: LookupFunction } | undefined

export interface AllowProxy {
  /** Its port on the host's loopback. */
  port: number
  close(): Promise<void>
}

/**
 * The allow-list's wall: an HTTP proxy on the host's loopback (plain requests and CONNECT
 * tunnels, so https too) that the guest's http_proxy/https_proxy point at. It goes only to hosts
 * that `rules` list, resolves their names on the host, and refuses any that resolve to this host
 * or a link-local address. A refusal answers 403 with a reason that names the host and the option,
 * which apt, curl and npm print.
 */
export async function startAllowProxy(
  rules: AllowRule[],
  forward: Map<number, number>,
  onRefused: (refusal: string) => void,
): Promise<AllowProxy> {
  let reports = 0
  const deny = (host: string, port: number): string => {
    if (reports++ < MAX_REPORTS) onRefused(`proxy ${host}:${port} (not in network.allow)`)
    return `UML_NETWORK_DENIED ${host}:${port} is not in network.allow`
  }
  // Where a request may go: a forwarded port of the host (for programs that ignore no_proxy, such
  // as busybox wget), or an allowed host; undefined when refused.
  const route: Route = (host, port) => {
    const hostPort = forward.get(port)
    if (hostPort !== undefined && (host === GUEST_NETWORK.hostName || host === GUEST_NETWORK.gateway))
      return { host: '127.0.0.1', port: hostPort }
    return isAllowed(rules, host, port) ? { host, port, lookup: safeLookup } : undefined
  }
  const server = createServer((req, res) => forwardRequest(req, res, route, deny))
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => tunnel(req, socket, head, route, deny))
  server.on('clientError', (_error, socket) => socket.destroy())
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address')
  return {
    port: address.port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A plain-HTTP request in absolute form (`GET http://host/path`), passed on when allowed. */
function forwardRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  deny: (host: string, port: number) => string,
): void {
  let target: URL
  try {
    target = new URL(req.url ?? '')
    if (target.protocol !== 'http:') throw new Error(target.protocol)
  } catch {
    reply(res, 400, 'UML_NETWORK_DENIED the proxy takes absolute http:// URLs and CONNECT')
    return
  }
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = Number(target.port || 80)
  const destination = route(host, port)
  if (!destination) {
    reply(res, 403, deny(host, port))
    return
  }
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value
  }
  const upstream = request(
    { ...destination, method: req.method, path: `${target.pathname}${target.search}`, headers },
    (response) => {
      res.writeHead(response.statusCode ?? 502, response.statusMessage, response.headers)
      response.pipe(res)
    },
  )
  upstream.on('error', (error) => {
    if (!res.headersSent) reply(res, 502, `${host}:${port} cannot be reached: ${error.message}`)
    else res.destroy()
  })
  req.pipe(upstream)
}

/** `CONNECT host:port`: a byte stream to an allowed host (https goes this way). */
function tunnel(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  route: Route,
  deny: (host: string, port: number) => string,
): void {
  const [, rawHost = '', rawPort = ''] = /^\[?([^\]]*?)\]?:(\d+)$/.exec(req.url ?? '') ?? []
  const port = Number(rawPort)
  client.on('error', () => {})
  if (!rawHost || !(port > 0 && port < 65536)) {
    client.end(statusLine(400, 'UML_NETWORK_DENIED CONNECT needs host:port'))
    return
  }
  const destination = route(rawHost, port)
  if (!destination) {
    client.end(statusLine(403, deny(rawHost, port)))
    return
  }
  const upstream: Socket = connect(destination)
  upstream.on('connect', () => {
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    if (head.length > 0) upstream.write(head)
    upstream.pipe(client)
    client.pipe(upstream)
  })
  upstream.on('error', (error) => {
    if (upstream.connecting) client.end(statusLine(502, `${rawHost}:${port} cannot be reached: ${error.message}`))
    else client.destroy()
  })
  client.on('close', () => upstream.destroy())
}

const denied = new BlockList()
for (const range of deniedRanges()) {
  const [address = '', bits = '32'] = range.split('/')
  denied.addSubnet(address, Number(bits), 'ipv4')
}
denied.addAddress('::1', 'ipv6')
denied.addSubnet('fe80::', 10, 'ipv6')

/** dns.lookup, refusing names that lead to this host or a link-local address (as the relay does). */
const safeLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0)
    const usable = addresses.filter((entry) => !denied.check(entry.address, entry.family === 6 ? 'ipv6' : 'ipv4'))
    const [first] = usable
    if (!first) return callback(new Error(`${hostname} resolves to this host or a link-local address`), '', 0)
    if (options.all) return (callback as unknown as (e: null, a: typeof usable) => void)(null, usable)
    callback(null, first.address, first.family)
  })
}

function reply(res: ServerResponse, status: number, reason: string): void {
  res.writeHead(status, reason, { 'content-type': 'text/plain', connection: 'close' })
  res.end(`${reason}\n`)
}

function statusLine(status: number, reason: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length + 1}\r\nConnection: close\r\n\r\n${reason}\n`
}
