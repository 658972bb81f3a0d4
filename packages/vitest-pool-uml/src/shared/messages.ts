/** A host directory the guest mounts over hostfs. */
export interface ShareMount {
  /** Path inside the sandbox (see SANDBOX_SHARES_DIR). */
  source: string
  /** Where the guest mounts it. */
  target: string
  writable: boolean
  /** Read-only on the host, writable in the guest: writes go to a layer in the guest, gone with it. */
  copyOnWrite: boolean
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
  /** Run in a fresh session (see ForkMessage). */
  session?: boolean
  /**
   * Run as root in the root file system of the running session of this forked process (its /tmp,
   * its copy-on-write shares), starting in its `/`; `user` and `cwd` do not apply.
   */
  inSessionOf?: number
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
  /**
   * Run in a fresh session of the booted guest: own mount, PID, UTS and IPC namespaces, the
   * pristine image as its root under an empty upper layer, its own /tmp and /dev/shm. Everything
   * it wrote, mounted or started goes when the process ends.
   */
  session?: boolean
}

/**
 * A message for a forked process's IPC channel, in either direction, as Node's own IPC
 * serialization ('advanced') has it: the agent relays the bytes, the host alone decodes them.
 */
export interface ForkIpcMessage {
  t: 'ipc'
  id: number
  bytes: Uint8Array
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
  /** Spooled frames read since the last ack, whose files the host may now delete. */
  spooled?: number
}

/**
 * The next frame is too large for the serial line: it waits in the spool file `seq` (see
 * GUEST_SPOOL_DIR), a whole frame as encodeToGuestFrame makes it.
 */
export interface SpooledFrameMessage {
  t: 'spooled'
  seq: number
}

export type HostMessage =
  | SetupMessage
  | ExecMessage
  | ForkMessage
  | ForkIpcMessage
  | SignalMessage
  | ShutdownMessage
  | SpooledFrameMessage

export interface HelloMessage {
  t: 'hello'
}

export interface ReadyMessage {
  t: 'ready'
  /** `uname -r` of the guest kernel. */
  kernelRelease: string
  /** The guest's os-release(5) file as it is (empty when it has none); the host parses it. */
  osRelease: string
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
 * the agent's `ack` before sending more. The agent acknowledges once half of it is read
 * (ACK_AFTER_BYTES in src/guest/agent.c), or at once when it read spool files.
 */
export const HOST_TO_GUEST_WINDOW_BYTES = 2048

/**
 * Frames to the guest at least this large go through a spool file instead of the serial line. The
 * line reads its input a byte per host read() (UML's chan_interrupt), about 2.5 us a byte in a
 * round trip; a spooled frame costs about 0.3 ms more than an empty one on the line, so from about
 * 150 bytes the file is quicker, and the guest reads it over hostfs at hundreds of MB/s.
 */
export const SPOOL_MIN_FRAME_BYTES = 160

/**
 * Where the guest finds spooled frames: a host directory the sandbox binds read-only inside the
 * runtime directory, which the guest mounts over hostfs (see RUNTIME_DIR in src/host/core/sandbox-layout.ts).
 */
export const GUEST_SPOOL_DIR = '/run/vitest-uml/spool'
