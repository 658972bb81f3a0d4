import { constants } from 'node:os'
import { UmlError, type UmlErrorCode } from '../core/index.js'
import type { ConsoleLog } from './console-log.js'
import type { MapLimitReached } from './map-limit-watch.js'

/**
 * What the guest kernel logs when a write to its root disk fails with ENOSPC on the host: the
 * sandbox's COW tmpfs (or, for a writable image, the host file system) is full. Later writes
 * are lost while the guest runs on, so the guest is stopped at the first one.
 */
export const DISK_FULL_CONSOLE_MARK = 'critical space allocation error, dev ubda'

export interface FailureContext {
  kernel: string
  commandLine: string[]
  console: ConsoleLog
  /** The guest's disk limit, for the disk-full message. */
  diskMiB: number
  imageWritable: boolean
  exitCode?: number | null
  /** Set when the guest was stopped because a process reached the host's mapping limit. */
  mapLimit?: MapLimitReached | undefined
}

/** The coded error for a guest that died or never came up, with the console as evidence. */
export function guestFailure(context: FailureContext, what: 'boot-timeout' | 'died', timeoutMs?: number): UmlError {
  const tail = context.console.tail()
  const evidence = `Kernel command line: ${context.commandLine.join(' ')}\nConsole (last lines):\n${tail || '(empty)'}`
  const details = { consoleTail: tail, commandLine: context.commandLine, exitCode: context.exitCode }
  if (context.mapLimit) {
    const { mappings, limit } = context.mapLimit
    return new UmlError(
      'UML_GUEST_MAP_LIMIT',
      `A program in the guest (kernel ${context.kernel}) needed more host memory mappings than this host allows (vm.max_map_count = ${limit}), so the guest was stopped: UML maps each page of a guest process on its own, and past the limit the process would page-fault for ever. WebAssembly runtimes and large heaps touch that much memory. Raise the limit on the host: \`sudo sysctl -w vm.max_map_count=1048576\`, and keep it in /etc/sysctl.d (scripts/install-host-packages.sh does both).`,
      { details: { ...details, mappings, limit }, evidence },
    )
  }
  const signal = signalName(context.exitCode)
  let code: UmlErrorCode
  let summary: string
  if (what === 'boot-timeout') {
    code = 'UML_GUEST_BOOT_TIMEOUT'
    summary = `The guest (kernel ${context.kernel}) did not become ready within ${timeoutMs} ms. Raise the boot timeout if the machine is busy; if the console shows the guest stuck, check the image (vitest-uml images build) and kernel (vitest-uml doctor).`
  } else if (context.console.includes(DISK_FULL_CONSOLE_MARK)) {
    code = 'UML_GUEST_DISK_FULL'
    summary = context.imageWritable
      ? `The guest (kernel ${context.kernel}) could not write its disk: the host file system that holds the image is full. Free space there and try again.`
      : `The guest (kernel ${context.kernel}) wrote more than its disk limit (${context.diskMiB} MiB, the copy-on-write layer kept in host memory), so it was stopped before it lost more writes. Raise \`disk\` in the uml() options, or write less.`
  } else if (context.console.includes('Kernel panic')) {
    code = 'UML_GUEST_PANIC'
    summary = `The guest kernel (${context.kernel}) panicked. The console below shows why; a guest that runs out of memory or crashes its kernel on purpose ends this way.`
  } else if (signal && STOP_SIGNALS.has(signal)) {
    code = 'UML_GUEST_KILLED'
    summary = `The guest's UML process (kernel ${context.kernel}) was killed with ${signal} from outside vitest-uml: by a user, the host's OOM killer or a time limit. The console below shows what the guest was doing.`
  } else if (signal) {
    code = 'UML_GUEST_EXITED'
    summary = `The guest's UML process (kernel ${context.kernel}) crashed (${signal}). Run \`vitest-uml doctor\` to check this host; the console below shows what the guest was doing.`
  } else {
    code = 'UML_GUEST_EXITED'
    summary = `The guest (kernel ${context.kernel}) stopped unexpectedly (UML exit status ${context.exitCode ?? 'unknown'}). Run \`vitest-uml doctor\` to check this host.`
  }
  return new UmlError(code, summary, { details, evidence })
}

/** Signals that something outside sent to stop a process, as opposed to a crash (SIGSEGV, SIGABRT). */
const STOP_SIGNALS = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP'])

/** bubblewrap exits with 128 + n when the process it ran was ended by signal n. */
function signalName(exitCode: number | null | undefined): string | undefined {
  if (exitCode == null || exitCode <= 128) return undefined
  const number = exitCode - 128
  return Object.entries(constants.signals).find(([, value]) => value === number)?.[0]
}
