import { type ChildProcess, spawn } from 'node:child_process'
import { constants } from 'node:os'
import { join } from 'node:path'
import { GUEST_SPOOL_DIR } from '../../shared/index.js'
import {
  buildSandboxArgs,
  findHostTool,
  RUNTIME_DIR,
  requireHostTool,
  SANDBOX_AGENT_DIR,
  SANDBOX_IMAGE_PATH,
  SANDBOX_KERNEL_DIR,
  SANDBOX_NODE_DIR,
  SANDBOX_SHARES_DIR,
  type SandboxMount,
} from '../core/index.js'
import { agentDistDir } from './agent-dist-dir.js'
import { claimGuestCpu } from './guest-cpu.js'
import type { ResolvedGuestOptions } from './guest-options.js'
import { hostLoopsPerJiffy } from './host-loops-per-jiffy.js'
import { buildKernelCommandLine, SANDBOX_DISK_DIR } from './kernel-command-line.js'
import { SANDBOX_NET_DIR } from './network/guest-network.js'
import { resolveNetworkPolicy } from './network/network-options.js'
import { type GuestNetwork, startGuestNetwork } from './network/start-guest-network.js'
import { prepareNodeRuntime } from './node-runtime.js'

const MIB = 1024 * 1024
/** Room in the memory tmpfs beyond guest RAM, for UML's own files (mconsole socket, pid file). */
const SCRATCH_SLACK_MIB = 16
/**
 * Room in the disk tmpfs beyond the disk limit, for the COW file's header and bitmap (1 MiB per
 * 4 GiB of image): the limit then counts written data, and with the default (the 4 GiB image's
 * size) the guest's own file system fills before its COW layer can.
 */
const COW_HEADER_SLACK_MIB = 8

export interface SpawnedUml {
  process: ChildProcess
  commandLine: string[]
  /** The guest's network on the host side, when it has one; it ends with the sandbox. */
  network?: GuestNetwork
  /** Settles with the exit status (128 + n after signal n) when the sandbox has ended. */
  exit: Promise<number | null>
  /** Leaves the guest's CPU to the next guest: once it is shutting down, which takes a while. */
  releaseCpu(): void
}

export function sandboxSharePath(index: number): string {
  return `${SANDBOX_SHARES_DIR}/${index}`
}

/** What a guest's sandbox binds besides its options: the channel's spool and the network's socket directory. */
export interface SandboxExtras {
  spoolDir?: string
  network?: GuestNetwork
}

/**
 * bubblewrap's arguments for a guest's sandbox: what the UML process (and any code that takes
 * over its place, such as a kernel module the guest loads) can reach on the host, and no more.
 */
export async function guestSandboxArgs(
  options: ResolvedGuestOptions,
  { spoolDir, network }: SandboxExtras = {},
): Promise<string[]> {
  const nodeRuntime = await prepareNodeRuntime({ cacheDir: options.cacheDir })
  const mounts: SandboxMount[] = [
    { source: options.kernel.dir, target: SANDBOX_KERNEL_DIR },
    { source: options.imagePath, target: SANDBOX_IMAGE_PATH, writable: options.imageWritable },
    { source: nodeRuntime, target: SANDBOX_NODE_DIR },
    { source: agentDistDir(), target: SANDBOX_AGENT_DIR },
    // Inside the runtime directory, which the guest mounts over hostfs: it sees the spool there.
    ...(spoolDir ? [{ source: spoolDir, target: GUEST_SPOOL_DIR }] : []),
    ...options.shares.map((share, index) => ({
      source: share.hostPath,
      target: sandboxSharePath(index),
      writable: share.writable,
    })),
    ...(network ? [{ source: network.socketDir, target: SANDBOX_NET_DIR }] : []),
  ]
  return buildSandboxArgs({
    // The guest mounts the runtime directory; tests running as a user other than root need its Node.
    openDirs: [RUNTIME_DIR],
    mounts,
    hidden: options.shares.flatMap((share, index) =>
      share.hidden.map((hidden) => ({
        target: join(sandboxSharePath(index), hidden.path),
        directory: hidden.directory,
      })),
    ),
    scratch: [
      { target: '/tmp', sizeBytes: (options.memoryMiB + SCRATCH_SLACK_MIB) * MIB },
      { target: SANDBOX_DISK_DIR, sizeBytes: (options.diskMiB + COW_HEADER_SLACK_MIB) * MIB },
    ],
  })
}

/**
 * Starts a UML kernel inside its bubblewrap sandbox. The sandbox sees only the kernel, the image,
 * the guest Node runtime, the agent and the shares; guest memory and the COW disk live on private
 * tmpfs mounts that vanish with it. fd 3 and 4 carry the channel (ssl1), fd 1 the console; large
 * frames to the guest wait in `spoolDir`, bound read-only.
 */
export async function spawnUml(
  options: ResolvedGuestOptions,
  mode: 'agent' | 'shell',
  spoolDir?: string,
): Promise<SpawnedUml> {
  const bwrap = await requireHostTool('bwrap', 'to confine each guest on the host')
  const policy = resolveNetworkPolicy(options.network)
  const network = policy ? await startGuestNetwork(policy, options.cacheDir) : undefined
  try {
    return await spawnSandboxed(bwrap, options, mode, { spoolDir, network })
  } catch (error) {
    await network?.dispose()
    throw error
  }
}

async function spawnSandboxed(
  bwrap: string,
  options: ResolvedGuestOptions,
  mode: 'agent' | 'shell',
  { spoolDir, network }: SandboxExtras,
): Promise<SpawnedUml> {
  const commandLine = [
    ...buildKernelCommandLine({
      memoryMiB: options.memoryMiB,
      imageWritable: options.imageWritable,
      seccomp: options.seccomp && options.kernel.supportsSeccomp,
      mode,
      time: options.time,
      clock: options.clock,
      loopsPerJiffy: hostLoopsPerJiffy(),
    }),
    ...(network?.kernelArgs ?? []),
    ...options.extraKernelArgs,
  ]
  const sandbox = await guestSandboxArgs(options, { spoolDir, network })
  const interactive = mode === 'shell'
  const uml = [bwrap, ...sandbox, '--', `${SANDBOX_KERNEL_DIR}/linux`, ...commandLine]
  // Without taskset the guest runs where the host's scheduler puts it, only slower (OPTIONAL_HOST_TOOLS).
  const taskset = options.pinCpu ? await findHostTool('taskset') : undefined
  const cpu = taskset ? claimGuestCpu() : undefined
  const command = cpu ? [taskset as string, '-c', String(cpu.cpu), ...uml] : uml
  let child: ChildProcess
  try {
    // node:child_process rather than execa: the channel needs two extra descriptors in opposite
    // directions (fd 3 into the guest, fd 4 out of it), which Node gives as plain sockets.
    child = spawn(command[0]!, command.slice(1), {
      stdio: [interactive ? 'inherit' : 'ignore', interactive ? 'inherit' : 'pipe', 'pipe', 'pipe', 'pipe'],
    })
  } catch (error) {
    cpu?.release()
    throw error
  }
  const exit = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(null))
    // bubblewrap itself killed: reported as a shell would, 128 + the signal's number.
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 + constants.signals[signal] : null)))
  }).then(async (code) => {
    cpu?.release()
    await network?.dispose()
    return code
  })
  return { process: child, commandLine, network, exit, releaseCpu: () => cpu?.release() }
}
