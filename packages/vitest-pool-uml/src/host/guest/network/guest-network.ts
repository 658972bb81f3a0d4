import { networkInterfaces } from 'node:os'
import { RUNTIME_DIR } from '../../core/index.js'
import type { NetworkPolicy } from './network-options.js'

/**
 * The guest's network, as slirp4netns lays it out: the host (the gateway) at .2, DNS at .3. The
 * MTU is the largest slirp4netns takes: one frame per 64 KiB cuts the per-packet work of the
 * guest kernel, the relay and slirp4netns tenfold against 1500.
 */
export const GUEST_NETWORK = {
  cidr: '10.0.2.0/24',
  address: '10.0.2.100',
  prefixLength: 24,
  gateway: '10.0.2.2',
  dns: '10.0.2.3',
  mtu: 65520,
  /** The allow-list proxy, on the host's address in the guest. */
  proxyPort: 3128,
  /** The host's name in the guest's /etc/hosts. */
  hostName: 'host.vitest-uml.internal',
} as const

/** Where the helper's socket directory is bound in the guest's sandbox. */
export const SANDBOX_NET_DIR = `${RUNTIME_DIR}/net`

/**
 * Destinations never let through, whatever the option says: this host itself (its loopback and
 * its own addresses, where services listening on all addresses would answer), link-local
 * addresses (cloud metadata at 169.254.169.254), "this network", multicast and reserved ones.
 */
export function deniedRanges(): string[] {
  const own = Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .filter((address) => address.family === 'IPv4')
    .map((address) => `${address.address}/32`)
  return ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4', ...new Set(own)]
}

/**
 * The kernel's arguments for a network card (a vector device connected to the relay's socket)
 * and, as `name=value` arguments that the kernel hands to init as environment variables, what
 * init configures it with.
 */
export function networkKernelArgs(policy: NetworkPolicy): string[] {
  const net = GUEST_NETWORK
  return [
    `vec0:transport=bess,dst=${SANDBOX_NET_DIR}/uml.sock,depth=128,gro=1,mtu=${net.mtu}`,
    `vitest_uml_net=${net.address}/${net.prefixLength},${net.gateway},${net.mtu},${net.hostName}`,
    ...(policy.outbound ? [`vitest_uml_dns=${net.dns}`] : []),
    ...(!policy.outbound && policy.allow.length > 0 ? [`vitest_uml_proxy=http://${net.gateway}:${net.proxyPort}`] : []),
  ]
}
