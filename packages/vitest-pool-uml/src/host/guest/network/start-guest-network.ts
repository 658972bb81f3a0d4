import { startAllowProxy } from './allow-proxy.js'
import { GUEST_NETWORK, networkKernelArgs } from './guest-network.js'
import { startNetworkHelper } from './network-helper.js'
import type { NetworkPolicy } from './network-options.js'

/** A guest's network on the host side: what its sandbox and kernel need, and what ends it. */
export interface GuestNetwork {
  /** Host directory to bind at SANDBOX_NET_DIR in the guest's sandbox. */
  socketDir: string
  kernelArgs: string[]
  /** The helper sandbox's bwrap process on the host (relay and slirp4netns run under it). */
  helperPid: number | undefined
  /** What the walls refused (the relay's and the proxy's reports, at most 100 each), oldest first. */
  refused: string[]
  dispose(): Promise<void>
}

/**
 * Starts what a guest's network needs on the host: the allow-list proxy when there is a list,
 * and the helper (relay and slirp4netns), which maps the proxy's and the forwarded ports to the
 * host's address in the guest.
 */
export async function startGuestNetwork(policy: NetworkPolicy, cacheDir: string): Promise<GuestNetwork> {
  const refused: string[] = []
  const onRefused = (refusal: string) => refused.push(refusal)
  const ports = new Map(policy.forward)
  const proxy =
    !policy.outbound && policy.allow.length > 0
      ? await startAllowProxy(policy.allow, policy.forward, onRefused)
      : undefined
  if (proxy) ports.set(GUEST_NETWORK.proxyPort, proxy.port)
  const helper = await startNetworkHelper(policy, ports, cacheDir, onRefused).catch(async (error: unknown) => {
    await proxy?.close()
    throw error
  })
  return {
    socketDir: helper.socketDir,
    kernelArgs: networkKernelArgs(policy),
    helperPid: helper.pid,
    refused,
    async dispose() {
      await Promise.all([helper.dispose(), proxy?.close()])
    },
  }
}
