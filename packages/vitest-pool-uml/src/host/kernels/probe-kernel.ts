import { buildSandboxArgs, SANDBOX_KERNEL_DIR, UmlError } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'

export interface KernelProbe {
  supportsSeccomp: boolean
  supportsTimeTravel: boolean
}

const PROBE_TIMEOUT_MS = 30_000

/**
 * Starts the prepared kernel the way guests will run it (entry dir bound at SANDBOX_KERNEL_DIR inside
 * bubblewrap) with `--help`, which prints its boot options and exits. An option list mentioning
 * `seccomp=` means the kernel can run guest processes under SECCOMP instead of ptrace; one
 * mentioning `time-travel` was built with CONFIG_UML_TIME_TRAVEL_SUPPORT.
 */
export async function probeKernel(bwrap: string, entryDir: string, kernel: string): Promise<KernelProbe> {
  const sandbox = buildSandboxArgs({ mounts: [{ source: entryDir, target: SANDBOX_KERNEL_DIR }] })
  const command = [...sandbox, '--', `${SANDBOX_KERNEL_DIR}/linux`, '--help']
  const { execa } = await loadExeca()
  const result = await execa(bwrap, command, { reject: false, all: true, timeout: PROBE_TIMEOUT_MS, stdin: 'ignore' })
  const output = result.all ?? ''
  if (result.failed) {
    throw new UmlError(
      'UML_KERNEL_START_FAILED',
      `Kernel ${kernel} did not start inside its bubblewrap sandbox (${result.shortMessage}). If bwrap itself ` +
        'failed, check that this host allows unprivileged user namespaces; otherwise report the output below.',
      {
        details: { kernel, entryDir, exitCode: result.exitCode, signal: result.signal, output },
        evidence: `Output:\n${output.trim().slice(-2000) || '(none)'}`,
      },
    )
  }
  return { supportsSeccomp: /^seccomp=/m.test(output), supportsTimeTravel: /^time-travel$/m.test(output) }
}
