/** A host directory the guest mounts over hostfs. */
export interface ShareMount {
  /** Path inside the sandbox (see SANDBOX_SHARES_DIR). */
  source: string
  /** Where the guest mounts it. */
  target: string
  writable: boolean
}

/** Sent once, in answer to `hello`: what the agent sets up before it reports `ready`. */
export interface SetupMessage {
  t: 'setup'
  shares: ShareMount[]
}

/** Runs a command; its output comes back as `stdout`/`stderr`, its end as `exit`. */
export interface ExecMessage {
  t: 'exec'
  id: number
  argv: string[]
  env?: Record<string, string>
  cwd?: string
  /** Run as this guest user (name or uid) instead of root. */
  user?: string
}

/** Starts a Node process in the guest with an IPC channel (like child_process.fork). */
export interface ForkMessage {
  t: 'fork'
  id: number
  /** Module to run, by absolute path. */
  entry: string
  args?: string[]
  execArgv?: string[]
  env?: Record<string, string>
  cwd?: string
  user?: string
}

/** A message for a forked process's IPC channel, in either direction. */
export interface ForkIpcMessage {
  t: 'ipc'
  id: number
  message: unknown
}

export interface SignalMessage {
  t: 'signal'
  id: number
  signal: NodeJS.Signals
}

export interface ShutdownMessage {
  t: 'shutdown'
}

/** Credits back to the sender: the reader consumed this many bytes of the channel. */
export interface AckMessage {
  t: 'ack'
  bytes: number
}

export type HostMessage = SetupMessage | ExecMessage | ForkMessage | ForkIpcMessage | SignalMessage | ShutdownMessage

export interface HelloMessage {
  t: 'hello'
}

export interface ReadyMessage {
  t: 'ready'
  /** `uname -r` of the guest kernel. */
  kernelRelease: string
  /** Fields of the guest's /etc/os-release (empty when it has none). */
  osRelease: Record<string, string>
}

export interface OutputMessage {
  t: 'stdout' | 'stderr'
  id: number
  data: Uint8Array
}

export interface ExitMessage {
  t: 'exit'
  id: number
  /** Exit status; null when a signal ended the command. */
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when the command could not be started at all (for example ENOENT). */
  error?: string
}

/** Something failed in the agent outside any command. */
export interface AgentErrorMessage {
  t: 'agent-error'
  message: string
}

export type AgentMessage =
  | HelloMessage
  | ReadyMessage
  | AckMessage
  | OutputMessage
  | ExitMessage
  | ForkIpcMessage
  | AgentErrorMessage

/**
 * Most bytes the host keeps unacknowledged on the serial line. UML's serial driver loses data for
 * good when its tty buffer overflows (a stall measured with an 8.8 KB frame), so the host waits for
 * the agent's `ack` before sending more.
 */
export const HOST_TO_GUEST_WINDOW_BYTES = 2048

/** The guest's serial line that carries the channel (`ssl1` on the kernel command line). */
export const GUEST_CHANNEL_DEVICE = '/dev/ttyS1'
