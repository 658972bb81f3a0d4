import type { Result } from 'execa'
import { shellQuote } from '../../shared/index.js'
import { diesWithParent, UmlError } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'

export type ImageFailureCode = 'UML_IMAGE_BUILD_FAILED' | 'UML_IMAGE_IMPORT_FAILED' | 'UML_IMAGE_PULL_FAILED'

export interface RunToolOptions {
  failureCode: ImageFailureCode
  /** What the tool was doing, for the message: "mmdebstrap could not bootstrap bookworm". */
  what: string
  /** How to fix it, for the message. */
  fix: string
  /** Also show the tool's stderr live on ours (it is captured either way). */
  echoStderr?: boolean
  /** Environment variables over ours. */
  env?: Record<string, string>
}

/** One command of a script that runToolSteps runs, with what its failure means. */
export interface ToolStep {
  command: [string, ...string[]]
  what: string
  fix: string
}

const STDERR_TAIL_LINES = 15

/** Runs a host tool; a failure is a coded error carrying the tail of the tool's stderr. */
export async function runTool(command: string, args: string[], options: RunToolOptions): Promise<void> {
  const result = await run(command, args, options)
  if (result.failed) throw toolFailure([command, ...args], result, options)
}

/**
 * Runs commands one after another in one shell under `prefix` (`unshare --mount ...`: namespaces
 * they must share); the first that fails stops the rest, and the error is that step's own, as
 * runTool would raise it. `options.what` and `fix` describe the whole when it fails otherwise.
 */
export async function runToolSteps(prefix: string[], steps: ToolStep[], options: RunToolOptions): Promise<void> {
  // The shell's stdout says which step runs; the steps' own goes nowhere, as runTool's does.
  const script = [
    'set -e',
    'exec 3>&1 >/dev/null',
    ...steps.map((step, i) => `echo ${i} >&3; ${step.command.map(shellQuote).join(' ')}`),
  ].join('\n')
  const [command, ...args] = [...prefix, 'sh', '-c', script]
  const result = await run(command!, args, { ...options, stdout: 'pipe' })
  if (!result.failed) return
  const started = String(result.stdout ?? '')
    .trim()
    .split('\n')
    .at(-1)
  const step = started ? steps[Number(started)] : undefined
  if (!step) throw toolFailure([command!, ...args], result, options)
  throw toolFailure(step.command, result, { ...options, ...step })
}

async function run(command: string, args: string[], options: RunToolOptions & { stdout?: 'pipe' }): Promise<Result> {
  const [file, groupArgs] = await diesWithParent(
    command,
    args,
    'to stop image builds with the process that started them',
  )
  const { execa } = await loadExeca()
  return execa(file, groupArgs, {
    detached: true,
    env: options.env,
    reject: false,
    stdin: 'ignore',
    stdout: options.stdout ?? 'ignore',
    stderr: options.echoStderr ? ['pipe', 'inherit'] : 'pipe',
    lines: false,
  })
}

function toolFailure(command: string[], result: Result, options: RunToolOptions): UmlError {
  const status = result.exitCode === undefined ? (result.signal ?? result.shortMessage) : `exit ${result.exitCode}`
  const stderrTail = String(result.stderr ?? '')
    .trimEnd()
    .split('\n')
    .slice(-STDERR_TAIL_LINES)
    .join('\n')
  return new UmlError(options.failureCode, `${options.what} (${status}). ${options.fix}`, {
    cause: result,
    details: { command, exitCode: result.exitCode, stderrTail },
    evidence: stderrTail || undefined,
  })
}
