import { type ChildProcess, fork, spawn } from 'node:child_process'
import type { AgentMessage, ExecMessage, ForkMessage } from '@vitest-uml/protocol'
import { resolveUser } from './resolve-user.js'

/** The environment commands start with, before the host's additions. */
const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/vitest-uml/node/bin',
  HOME: '/root',
  USER: 'root',
  LOGNAME: 'root',
  LANG: 'C.UTF-8',
}

/** Time a forked process gets between SIGTERM and SIGKILL, as Vitest's forks pool gives. */
const KILL_DELAY_MS = 500

export interface RunningProcess {
  signal(signal: NodeJS.Signals): void
  /** Delivers a message on the process's IPC channel (forked processes only). */
  send(message: unknown): void
}

const notRunning: RunningProcess = { signal() {}, send() {} }

/**
 * Starts a command (exec) or a Node module with an IPC channel (fork), and streams its output,
 * IPC messages and exit status back as messages.
 */
export function startProcess(
  request: ExecMessage | ForkMessage,
  reply: (message: AgentMessage) => void,
): RunningProcess {
  const fail = (error: unknown) => {
    reply({ t: 'exit', id: request.id, code: null, signal: null, error: (error as Error).message })
    return notRunning
  }
  let child: ChildProcess
  try {
    const env: Record<string, string> = { ...BASE_ENV }
    const ids: { uid?: number; gid?: number } = {}
    if (request.user !== undefined && request.user !== 'root' && request.user !== '0') {
      const user = resolveUser(request.user)
      Object.assign(env, { HOME: user.home, USER: user.name, LOGNAME: user.name })
      Object.assign(ids, { uid: user.uid, gid: user.gid })
    }
    Object.assign(env, request.env)
    const common = { cwd: request.cwd ?? env.HOME, env, ...ids }
    if (request.t === 'exec') {
      const [file, ...args] = request.argv
      if (file === undefined) return fail(new Error('empty command'))
      child = spawn(file, args, { ...common, stdio: ['ignore', 'pipe', 'pipe'] })
    } else {
      child = fork(request.entry, request.args ?? [], {
        ...common,
        execArgv: request.execArgv ?? [],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'advanced',
      })
      child.on('message', (message) => reply({ t: 'ipc', id: request.id, message }))
    }
  } catch (error) {
    // spawn throws synchronously for some errors (E2BIG: an argument or variable over 128 KiB).
    return fail(error)
  }
  let startError: string | undefined
  child.stdout?.on('data', (data: Buffer) => reply({ t: 'stdout', id: request.id, data }))
  child.stderr?.on('data', (data: Buffer) => reply({ t: 'stderr', id: request.id, data }))
  child.on('error', (error) => {
    startError = error.message
  })
  child.on('close', (code, signal) => {
    reply({ t: 'exit', id: request.id, code, signal, ...(startError ? { error: startError } : {}) })
  })
  return {
    signal(signal) {
      child.kill(signal)
      if (signal === 'SIGTERM') setTimeout(() => child.kill('SIGKILL'), KILL_DELAY_MS).unref()
    },
    send(message) {
      if (child.connected) child.send(message as never)
    },
  }
}
