export { agentDistDir } from './agent-dist-dir.js'
export { checkTimeTravel } from './check-inputs.js'
export { ConsoleLog } from './console-log.js'
export { type ExecOptions, type ExecResult, type ForkOptions, Guest } from './guest.js'
export {
  GUEST_DEFAULTS,
  type GuestOptions,
  guestKernel,
  parseGuestOptions,
  type ResolvedGuestOptions,
  type Share,
} from './guest-options.js'
export { GuestProcess } from './guest-process.js'
export type { ChannelCounters } from './host-channel.js'
export { listMarkedGuests } from './marked-guests.js'
export { probeNetworkHelper } from './network/network-helper.js'
export { allowEntrySchema, forwardPairSchema, type NetworkOption, networkSchema } from './network/network-options.js'
export { prepareNodeRuntime } from './node-runtime.js'
export { processTreeCpuMs, processTreePids } from './process-tree.js'
export { runShell } from './run-shell.js'
export { guestSandboxArgs } from './spawn-uml.js'
