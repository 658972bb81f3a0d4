import { UmlError, type UmlErrorCode } from '@vitest-uml/core'
import type { ConsoleLog } from './console-log.js'

export interface FailureContext {
  kernel: string
  commandLine: string[]
  console: ConsoleLog
  exitCode?: number | null
}

/** The coded error for a guest that died or never came up, with the console as evidence. */
export function guestFailure(context: FailureContext, what: 'boot-timeout' | 'died', timeoutMs?: number): UmlError {
  const tail = context.console.tail()
  const panicked = context.console.includes('Kernel panic')
  let code: UmlErrorCode
  let summary: string
  if (what === 'boot-timeout') {
    code = 'UML_GUEST_BOOT_TIMEOUT'
    summary = `The guest (kernel ${context.kernel}) did not become ready within ${timeoutMs} ms. Raise the boot timeout if the machine is busy; if the console shows the guest stuck, check the image (vitest-uml images build) and kernel (vitest-uml doctor).`
  } else if (panicked) {
    code = 'UML_GUEST_PANIC'
    summary = `The guest kernel (${context.kernel}) panicked. The console below shows why; a guest that runs out of memory or crashes its kernel on purpose ends this way.`
  } else {
    code = 'UML_GUEST_EXITED'
    summary = `The guest (kernel ${context.kernel}) stopped unexpectedly (UML exit status ${context.exitCode ?? 'unknown'}). Run \`vitest-uml doctor\` to check this host.`
  }
  return new UmlError(
    code,
    `${summary}\nKernel command line: ${context.commandLine.join(' ')}\nConsole (last lines):\n${tail || '(empty)'}`,
    {
      details: { consoleTail: tail, commandLine: context.commandLine, exitCode: context.exitCode },
    },
  )
}
