import { requireHostTool, UmlError } from '@vitest-uml/core'
import { execa } from 'execa'

export type ImageFailureCode = 'UML_IMAGE_BUILD_FAILED' | 'UML_IMAGE_IMPORT_FAILED'

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

const STDERR_TAIL_LINES = 15

/**
 * Runs the command in a process group of its own under a shell that kills the whole group when
 * this process dies, however it dies (setpriv's parent-death signal reaches the shell, not the
 * command's children): a killed run leaves no mmdebstrap, apt or tar running on.
 */
const DIES_WITH_PARENT = ['--pdeathsig', 'TERM', '--', 'sh', '-c', 'trap "kill -KILL 0" TERM; "$@" & wait $!', 'sh']

/** Runs a host tool; a failure is a coded error carrying the tail of the tool's stderr. */
export async function runTool(command: string, args: string[], options: RunToolOptions): Promise<void> {
  const setpriv = await requireHostTool('setpriv', 'to stop image builds with the process that started them')
  const result = await execa(setpriv, [...DIES_WITH_PARENT, command, ...args], {
    detached: true,
    env: options.env,
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: options.echoStderr ? ['pipe', 'inherit'] : 'pipe',
    lines: false,
  })
  if (!result.failed) return
  const stderrTail = String(result.stderr ?? '')
    .trimEnd()
    .split('\n')
    .slice(-STDERR_TAIL_LINES)
    .join('\n')
  const status = result.exitCode === undefined ? (result.signal ?? result.shortMessage) : `exit ${result.exitCode}`
  throw new UmlError(
    options.failureCode,
    `${options.what} (${status}). ${options.fix}${stderrTail ? `\n${stderrTail}` : ''}`,
    { cause: result, details: { command: [command, ...args], exitCode: result.exitCode, stderrTail } },
  )
}
