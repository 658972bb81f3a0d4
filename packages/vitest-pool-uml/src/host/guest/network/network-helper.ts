import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import {
  buildSandboxArgs,
  findHostTool,
  HOST_TOOLS,
  type SandboxMount,
  temporaryEntryName,
  UmlError,
} from '../../core/index.js'
import { keepNiceness } from '../guest-priority.js'
import { deniedRanges, GUEST_NETWORK } from './guest-network.js'
import type { NetworkPolicy } from './network-options.js'

/** How long the relay and slirp4netns get to start listening. */
const START_TIMEOUT_MS = 10_000

export interface NetworkHelper {
  /** The helper sandbox's bwrap process on the host. */
  pid: number | undefined
  /** Host directory holding the relay's socket, for the guest's sandbox; empty once connected. */
  socketDir: string
  /** Ends the helper (if the guest's end has not already ended it) and removes the socket directory. */
  dispose(): Promise<void>
}

/**
 * Starts a guest's network helper: the relay (relay.pl), which starts slirp4netns, in a sandbox
 * of its own that keeps the host's network but sees only the host's /usr, its resolv.conf and a
 * socket directory. Resolves once the guest may connect; each refusal is passed to onRefused as
 * "tcp 10.0.2.100 169.254.169.254 80". `ports` maps ports of the host's address
 * in the guest to ports of the host's loopback. The helper ends when the guest's side of the
 * socket closes, when dispose() is called, or with this process.
 */
export async function startNetworkHelper(
  policy: NetworkPolicy,
  ports: Map<number, number>,
  cacheDir: string,
  onRefused: (refusal: string) => void,
): Promise<NetworkHelper> {
  const bwrap = await findHostTool('bwrap')
  const perl = await findHostTool('perl')
  const slirp = await findHostTool('slirp4netns')
  const missing = [!bwrap && 'bwrap', !perl && 'perl', !slirp && 'slirp4netns'].filter(Boolean) as (
    | 'bwrap'
    | 'perl'
    | 'slirp4netns'
  )[]
  if (missing.length > 0 || !bwrap)
    throw networkUnavailable(
      `${new Intl.ListFormat('en').format(missing)} ${missing.length > 1 ? 'are' : 'is'} not installed`,
      `apt-get install ${[...new Set(missing.map((tool) => HOST_TOOLS[tool]))].join(' ')}`,
    )
  // In the cache, named as a temporary entry: what a killed run leaves, the next start removes.
  const socketDir = join(cacheDir, 'net', temporaryEntryName('guest', process.pid, randomBytes(4).toString('hex')))
  await mkdir(socketDir, { recursive: true })
  const relayArgs = [
    '/net',
    GUEST_NETWORK.cidr,
    String(GUEST_NETWORK.mtu),
    ...(policy.outbound ? ['--outbound', '--dns'] : []),
    ...deniedRanges().flatMap((range) => ['--deny', range]),
    ...[...ports].flatMap(([guest, host]) => ['--map', `${guest}:${host}`]),
  ]
  const child = spawn(bwrap, [...helperSandboxArgs(socketDir), '--', 'perl', '/relay.pl', ...relayArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const ended = new Promise<void>((resolve) => child.on('close', () => resolve()))
  const dispose = async () => {
    child.kill('SIGKILL')
    await ended
    await rm(socketDir, { recursive: true, force: true })
  }
  const lines = createInterface({ input: child.stdout })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(networkUnavailable(`the network helper did not start within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      )
      child.on('error', (error) => reject(networkUnavailable(`bwrap could not start it (${error.message})`)))
      void ended.then(() =>
        reject(networkUnavailable(`the network helper ended at start${stderr ? `:\n${stderr.trim()}` : ''}`)),
      )
      lines.on('line', (line) => {
        if (line === 'ready') {
          clearTimeout(timer)
          resolve()
        } else if (line.startsWith('refused ')) onRefused(line.slice(8))
      })
    })
  } catch (error) {
    await dispose()
    throw error
  }
  if (child.pid !== undefined) void keepNiceness(child.pid)
  return { socketDir, pid: child.pid, dispose }
}

function networkUnavailable(problem: string, install?: string): UmlError {
  return new UmlError(
    'UML_NETWORK_UNAVAILABLE',
    `The guest's network cannot start: ${problem}. ` +
      (install
        ? `Install it with: ${install} (or leave the network option off).`
        : 'Run `vitest-uml doctor` to check this host, or leave the network option off.'),
    { details: { problem, ...(install && { install }) } },
  )
}

/**
 * The helper's sandbox: the host's network (slirp4netns opens real sockets there), the host's
 * /usr for perl and slirp4netns, resolv.conf for slirp4netns's DNS, the relay script and the
 * socket directory; nothing else of the host's files, and no capabilities.
 */
function helperSandboxArgs(socketDir: string): string[] {
  const mounts: SandboxMount[] = [
    { source: '/usr', target: '/usr' },
    { source: socketDir, target: '/net', writable: true },
    { source: relayScriptPath(), target: '/relay.pl' },
  ]
  const symlinks: { link: string; target: string }[] = []
  for (const dir of ['/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']) {
    if (!existsSync(dir)) continue
    if (lstatSync(dir).isSymbolicLink()) symlinks.push({ link: dir, target: readlinkSync(dir) })
    else mounts.push({ source: dir, target: dir })
  }
  if (existsSync('/etc/resolv.conf'))
    mounts.push({ source: realpathSync('/etc/resolv.conf'), target: '/etc/resolv.conf' })
  return buildSandboxArgs({ mounts, symlinks, shareNetwork: true })
}

function relayScriptPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'relay.pl')
}

/** Starts a network helper and ends it again: throws UML_NETWORK_UNAVAILABLE where it cannot start. */
export async function probeNetworkHelper(cacheDir: string): Promise<void> {
  const helper = await startNetworkHelper(
    { outbound: true, allow: [], forward: new Map() },
    new Map(),
    cacheDir,
    () => {},
  )
  await helper.dispose()
}
