import { type ChildProcess, fork, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { constants } from 'node:os'
import { type AgentMessage, type ExecMessage, type ForkMessage, GUEST_PATH } from '../shared/index.js'
import { proxyEnv } from './proxy-env.js'
import { resolveUser } from './resolve-user.js'

/** The environment commands start with, before the host's additions. */
const BASE_ENV: Record<string, string> = {
  PATH: GUEST_PATH,
  HOME: '/root',
  USER: 'root',
  LOGNAME: 'root',
  LANG: 'C.UTF-8',
}

/** Starts a program in a fresh session (built beside the agent, see session.c). */
const SESSION_LAUNCHER = new URL('./session', import.meta.url).pathname

/**
 * Where sessions keep their upper layers: on the guest's disk, so what a session writes counts
 * against the disk limit as a fresh guest's writes do. Each session's directory goes when it ends.
 */
const SESSIONS_DIR = '/var/lib/vitest-uml/sessions'

/** Time a forked process gets between SIGTERM and SIGKILL, as Vitest's forks pool gives. */
const KILL_DELAY_MS = 500

export interface RunningProcess {
  /** A session's root file system as the agent reaches it (`/proc/<pid>/root` of its init). */
  readonly root: string | undefined
  signal(signal: NodeJS.Signals): void
  /** Delivers a message on the process's IPC channel (forked processes only). */
  send(message: unknown): void
}

const signalNames = new Map(Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]))

const notRunning: RunningProcess = { root: undefined, signal() {}, send() {} }

/**
 * Starts a command (exec) or a Node module with an IPC channel (fork), and streams its output,
 * IPC messages and exit status back as messages. `sessionRoot`: run the command as root inside
 * that running session's root file system (see ExecMessage.inSessionOf).
 */
export function startProcess(
  request: ExecMessage | ForkMessage,
  reply: (message: AgentMessage) => void,
  sessionRoot?: string,
): RunningProcess {
  const fail = (error: unknown) => {
    reply({ t: 'exit', id: request.id, code: null, signal: null, error: (error as Error).message })
    return notRunning
  }
  let child: ChildProcess
  let sessionDir: string | undefined
  try {
    const env: Record<string, string> = { ...BASE_ENV, ...proxyEnv() }
    const ids: { uid?: number; gid?: number } = {}
    if (request.user !== undefined && request.user !== 'root' && request.user !== '0') {
      const user = resolveUser(request.user)
      Object.assign(env, { HOME: user.home, USER: user.name, LOGNAME: user.name })
      Object.assign(ids, { uid: user.uid, gid: user.gid })
    }
    Object.assign(env, request.env)
    // Some images have no home directory for root (or the user): start in / then.
    const cwd = request.cwd ?? (env.HOME && existsSync(env.HOME) ? env.HOME : '/')
    // In a session the launcher enters the namespaces as root, then takes the user's ids and cwd.
    if (request.session) {
      mkdirSync(SESSIONS_DIR, { recursive: true })
      sessionDir = mkdtempSync(`${SESSIONS_DIR}/`)
    }
    const session = sessionDir ? [sessionDir, cwd, String(ids.uid ?? 0), String(ids.gid ?? 0)] : undefined
    const common = session || sessionRoot ? { cwd: '/', env } : { cwd, env, ...ids }
    // Node reports a missing cwd as the command missing ("spawn sh ENOENT").
    if (!session && !sessionRoot && !existsSync(cwd))
      return fail(new Error(`its working directory ${cwd} does not exist in the guest.`))
    if (request.t === 'exec') {
      const [file, ...args] = request.argv
      if (file === undefined) return fail(new Error('empty command'))
      const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe']
      if (session) child = spawn(SESSION_LAUNCHER, [...session, file, ...args], { ...common, stdio })
      else if (sessionRoot) child = spawn('chroot', [sessionRoot, file, ...args], { ...common, stdio })
      else child = spawn(file, args, { ...common, stdio })
    } else {
      const execArgv = request.execArgv ?? []
      child = fork(request.entry, request.args ?? [], {
        ...common,
        // fork() runs execPath with execArgv, the module and its arguments: the launcher then
        // runs Node with them, keeping the IPC descriptor.
        ...(session
          ? { execPath: SESSION_LAUNCHER, execArgv: [...session, process.execPath, ...execArgv] }
          : { execArgv }),
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'advanced',
      })
      child.on('message', (message) => reply({ t: 'ipc', id: request.id, message }))
    }
  } catch (error) {
    if (sessionDir) void rm(sessionDir, { recursive: true, force: true }).catch(() => {})
    // spawn throws synchronously for some errors (E2BIG: an argument or variable over 128 KiB).
    return fail(error)
  }
  let startError: string | undefined
  child.stdout?.on('data', (data: Buffer) => reply({ t: 'stdout', id: request.id, data }))
  child.stderr?.on('data', (data: Buffer) => reply({ t: 'stderr', id: request.id, data }))
  child.on('error', (error) => {
    startError = error.message
  })
  child.on('close', (exitCode, exitSignal) => {
    // A session's init reports its program's death by signal N as 128 + N, as a shell does.
    const killedBy = sessionDir && exitCode !== null && exitCode > 128 ? signalNames.get(exitCode - 128) : undefined
    const [code, signal] = killedBy ? [null, killedBy] : [exitCode, exitSignal]
    reply({ t: 'exit', id: request.id, code, signal, ...(startError ? { error: startError } : {}) })
    // Every process of the session has ended with its PID 1: what it wrote can go.
    if (sessionDir) void rm(sessionDir, { recursive: true, force: true }).catch(() => {})
  })
  const pid = child.pid
  // A session's init is the child of the launcher the agent started.
  const sessionInit = () => (sessionDir && pid !== undefined ? firstChild(pid) : undefined)
  return {
    get root() {
      const init = sessionInit()
      return init === undefined ? undefined : `/proc/${init}/root`
    },
    signal(signal) {
      // The launcher holds SIGTERM and SIGINT: the session's init takes them, and passes them on.
      const init = sessionInit()
      if (init === undefined) child.kill(signal)
      else {
        try {
          process.kill(init, signal)
        } catch {
          // It ended meanwhile.
        }
      }
      if (signal === 'SIGTERM') setTimeout(() => child.kill('SIGKILL'), KILL_DELAY_MS).unref()
    },
    send(message) {
      if (child.connected) child.send(message as never)
    },
  }
}

/** A process's first child (Linux's /proc/PID/task/PID/children), if it has one. */
function firstChild(pid: number): number | undefined {
  try {
    const [first] = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')
    return first ? Number(first) : undefined
  } catch {
    return undefined
  }
}
