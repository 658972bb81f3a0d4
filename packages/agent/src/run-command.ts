import { type ChildProcessByStdio, spawn } from 'node:child_process'
import type { Readable } from 'node:stream'
import type { AgentMessage, ExecMessage } from '@vitest-uml/protocol'

/** The environment commands start with, before the host's additions. */
const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/vitest-uml/node/bin',
  HOME: '/root',
  USER: 'root',
  LOGNAME: 'root',
  LANG: 'C.UTF-8',
}

export interface RunningCommand {
  signal(signal: NodeJS.Signals): void
}

/** Starts a command and streams its output and exit status back as messages. */
export function runCommand(request: ExecMessage, send: (message: AgentMessage) => void): RunningCommand {
  const [file, ...args] = request.argv
  if (file === undefined) {
    send({ t: 'exit', id: request.id, code: null, signal: null, error: 'empty command' })
    return { signal() {} }
  }
  let child: ChildProcessByStdio<null, Readable, Readable>
  try {
    child = spawn(file, args, {
      cwd: request.cwd ?? '/root',
      env: { ...BASE_ENV, ...request.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    // spawn throws synchronously for some errors (E2BIG: an argument or variable over 128 KiB).
    send({ t: 'exit', id: request.id, code: null, signal: null, error: (error as Error).message })
    return { signal() {} }
  }
  let spawnError: string | undefined
  child.stdout.on('data', (data: Buffer) => send({ t: 'stdout', id: request.id, data }))
  child.stderr.on('data', (data: Buffer) => send({ t: 'stderr', id: request.id, data }))
  child.on('error', (error) => {
    spawnError = error.message
  })
  child.on('close', (code, signal) => {
    send({ t: 'exit', id: request.id, code, signal, ...(spawnError ? { error: spawnError } : {}) })
  })
  return {
    signal(signal) {
      child.kill(signal)
    },
  }
}
