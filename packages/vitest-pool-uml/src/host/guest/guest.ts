import type { Readable, Writable } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import {
  type ExecMessage,
  type ExitMessage,
  type ForkMessage,
  parseOsRelease,
  type ReadyMessage,
} from '../../shared/index.js'
import { isWallOff, UmlError } from '../core/index.js'
import { checkGuestInputs } from './check-inputs.js'
import { ConsoleLog } from './console-log.js'
import { DISK_FULL_CONSOLE_MARK, type FailureContext, guestFailure } from './guest-failure.js'
import { type GuestOptions, parseGuestOptions } from './guest-options.js'
import { keepNiceness } from './guest-priority.js'
import { GuestProcess } from './guest-process.js'
import { type ChannelCounters, ChannelViolation, type FromGuestMessage, HostChannel } from './host-channel.js'
import { hostMapLimit, watchMapLimit } from './map-limit-watch.js'
import { processTreeCpuMs } from './process-tree.js'
import { type SpawnedUml, sandboxSharePath, spawnUml } from './spawn-uml.js'
import { createSpoolDir, removeSpoolDir } from './spool-dir.js'
import { findUmlProcessGroup, waitUntilStopped } from './uml-process-group.js'

/** How long a guest gets to power off by itself before its sandbox is killed. */
const SHUTDOWN_GRACE_MS = 3000

export interface ExecOptions {
  env?: Record<string, string>
  cwd?: string
  /** Guest user to run as; root by default. */
  user?: string
  /** Run in a fresh session of this guest (see ForkMessage in src/shared/messages.ts). */
  session?: boolean
  /**
   * Run as root in the session of this running process (forked with `session`), in its root file
   * system: its /tmp, its copy-on-write shares. `user` and `cwd` do not apply.
   */
  inSessionOf?: GuestProcess
  onStdout?: (data: Uint8Array) => void
  onStderr?: (data: Uint8Array) => void
  /** Most output collected (what no callback takes); past it the command is killed and exec fails. */
  maxOutputBytes?: number
}

export interface ExecResult {
  /** Exit status; null when a signal ended the command. */
  exitCode: number | null
  signal: string | null
  /** Output, collected when no onStdout/onStderr callback took it. */
  stdout: string
  stderr: string
}

export interface ForkOptions {
  args?: string[]
  execArgv?: string[]
  env?: Record<string, string>
  cwd?: string
  /** Guest user to run as; root by default. */
  user?: string
  /** Run in a fresh session of this guest (see ForkMessage in src/shared/messages.ts). */
  session?: boolean
}

/** What the guest sends back about one process, routed by its id. */
interface ProcessHandlers {
  output(stream: 'stdout' | 'stderr', data: Buffer): void
  ipc(message: unknown): void
  exit(message: ExitMessage): void
  fail(error: Error): void
}

/** A booted guest, ready to run commands as root until disposed. */
export class Guest {
  private nextId = 1
  private readonly processes = new Map<number, ProcessHandlers>()
  /** The agent's id of each forked process, for commands run in its session. */
  private readonly forkIds = new WeakMap<GuestProcess, number>()
  private disposed = false
  /** The kernel's process group while it is stopped (see pause). */
  private pausedGroup: number | undefined
  private failure: UmlError | undefined
  private parsedOsRelease: Record<string, string> | undefined

  private constructor(
    private readonly uml: SpawnedUml,
    private readonly channel: HostChannel,
    private readonly consoleLog: ConsoleLog,
    /** Tells the exit handler that an ending UML process is expected, not a failure. */
    private readonly lifecycle: { stopping: boolean },
    readonly ready: ReadyMessage,
    /** Settles when the UML process has ended, with its failure if it was not asked to stop. */
    readonly exited: Promise<UmlError | undefined>,
  ) {
    channel.on('message', (message) => this.receive(message))
    void exited.then((failure) => {
      this.failure = failure ?? new UmlError('UML_GUEST_DISPOSED', 'The guest was disposed; boot a new one.')
      for (const handlers of this.processes.values()) handlers.fail(this.failure)
      this.processes.clear()
    })
  }

  /** False once the UML process has ended, whether disposed or died. */
  get alive(): boolean {
    return this.failure === undefined
  }

  get commandLine(): string[] {
    return this.uml.commandLine
  }

  /**
   * What the network's walls refused this guest, oldest first: "tcp 10.0.2.100 169.254.169.254 80"
   * from the relay, "proxy example.org:443 (not in network.allow)" from the allow-list's proxy.
   */
  /** The network helper's bwrap process on the host, when the guest has a network (for measurements). */
  get networkHelperPid(): number | undefined {
    return this.uml.network?.helperPid
  }

  get networkRefusals(): string[] {
    return [...(this.uml.network?.refused ?? [])]
  }

  get kernelRelease(): string {
    return this.ready.kernelRelease
  }

  /** Fields of the guest's os-release(5) (empty when it has none), parsed once. */
  get osRelease(): Record<string, string> {
    this.parsedOsRelease ??= parseOsRelease(this.ready.osRelease)
    return this.parsedOsRelease
  }

  /** What the channel carried so far, each way. */
  get channelCounters(): Readonly<ChannelCounters> {
    return this.channel.counters
  }

  /** The host process that holds the guest (its sandbox), while it runs. */
  get hostPid(): number | undefined {
    return this.alive ? this.uml.process.pid : undefined
  }

  /** CPU time the guest used so far (its kernel and every program in it), in ms. */
  async cpuMs(): Promise<number> {
    return this.uml.process.pid === undefined ? 0 : processTreeCpuMs(this.uml.process.pid)
  }

  consoleTail(lines?: number): string {
    return this.consoleLog.tail(lines)
  }

  /** Runs a command as root in the guest and resolves with its exit status. */
  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const collected = { stdout: [] as Buffer[], stderr: [] as Buffer[] }
      let collectedBytes = 0
      const maxOutputBytes = options.maxOutputBytes ?? Number.POSITIVE_INFINITY
      const id = this.start(
        {
          t: 'exec',
          argv,
          ...pick(options, ['env', 'cwd', 'user', 'session']),
          ...(options.inSessionOf && { inSessionOf: this.forkIds.get(options.inSessionOf) ?? -1 }),
        },
        {
          output: (stream, data) => {
            const callback = stream === 'stdout' ? options.onStdout : options.onStderr
            if (callback) return callback(data)
            collectedBytes += data.length
            if (collectedBytes <= maxOutputBytes) collected[stream].push(data)
            else if (collectedBytes - data.length <= maxOutputBytes)
              this.channel.send({ t: 'signal', id, signal: 'SIGKILL' })
          },
          ipc() {},
          exit(message) {
            if (collectedBytes > maxOutputBytes) {
              reject(
                new UmlError(
                  'UML_COMMAND_FAILED',
                  `${JSON.stringify(argv[0])} printed more than ${maxOutputBytes} bytes in the guest, so it was stopped.`,
                  { details: { command: argv[0] ?? '' } },
                ),
              )
              return
            }
            if (message.error) {
              reject(
                new UmlError(
                  'UML_COMMAND_FAILED',
                  `Could not start ${JSON.stringify(argv[0])} in the guest: ${message.error}`,
                  { details: { command: argv[0] ?? '' } },
                ),
              )
              return
            }
            resolve({
              exitCode: message.code,
              signal: message.signal,
              stdout: Buffer.concat(collected.stdout).toString(),
              stderr: Buffer.concat(collected.stderr).toString(),
            })
          },
          fail: reject,
        },
      )
    })
  }

  /** Starts a Node module in the guest with an IPC channel, like child_process.fork. */
  fork(entry: string, options: ForkOptions = {}): GuestProcess {
    let id = 0
    const process = new GuestProcess(
      (message) => this.channel.send({ t: 'ipc', id, message }),
      (signal) => this.channel.send({ t: 'signal', id, signal }),
    )
    id = this.start(
      { t: 'fork', entry, ...pick(options, ['args', 'execArgv', 'env', 'cwd', 'user', 'session']) },
      {
        output: (stream, data) => process.emit(stream, data),
        ipc: (message) => process.emit('message', message),
        exit: (message) =>
          process.emit('exit', {
            code: message.code,
            signal: message.signal,
            ...(message.error && {
              error: new UmlError('UML_COMMAND_FAILED', `Could not start ${entry} in the guest: ${message.error}`, {
                details: { command: entry },
              }),
            }),
          }),
        fail: (error) => process.emit('exit', { code: null, signal: null, error }),
      },
    )
    this.forkIds.set(process, id)
    return process
  }

  private start(request: Omit<ExecMessage, 'id'> | Omit<ForkMessage, 'id'>, handlers: ProcessHandlers): number {
    const id = this.nextId++
    if (this.failure) {
      const failure = this.failure
      queueMicrotask(() => handlers.fail(failure))
      return id
    }
    this.processes.set(id, handlers)
    this.channel.send({ ...request, id } as ExecMessage | ForkMessage)
    return id
  }

  /**
   * Sets the guest's clock (as guest root with `date`, which every userland has), for a guest
   * booted ahead of need whose clock should read a given date when its work starts.
   */
  async setClock(date: Date): Promise<void> {
    const command = ['date', '-u', '-s', `@${Math.floor(date.getTime() / 1000)}`]
    const result = await this.exec(command)
    if (result.exitCode !== 0) {
      throw new UmlError(
        'UML_COMMAND_FAILED',
        `Could not set the guest's clock to ${date.toISOString()}: \`${command.join(' ')}\` exited with ${result.exitCode ?? result.signal}.`,
        { details: { command: command.join(' ') }, evidence: result.stderr.trim() },
      )
    }
  }

  /**
   * Stops the guest's kernel on the host (SIGSTOP to its process group) until resume(): a guest in
   * time-travel mode never sleeps when idle, it steps its clock from timer to timer on a host
   * CPU, so a warm guest is better stopped while it waits. Messages to it wait in the channel.
   */
  async pause(): Promise<void> {
    const pid = this.hostPid
    if (this.pausedGroup !== undefined || pid === undefined) return
    const group = await findUmlProcessGroup(pid)
    if (group === undefined || !this.alive) return
    if (!signalGroup(group, 'SIGSTOP')) return
    this.pausedGroup = group
    await waitUntilStopped(group)
  }

  resume(): void {
    const group = this.pausedGroup
    this.pausedGroup = undefined
    if (group !== undefined && this.alive) signalGroup(group, 'SIGCONT')
  }

  /** Powers the guest off (killing it if it does not stop in time); its disk and memory go with it. */
  async dispose(): Promise<void> {
    this.resume()
    if (!this.disposed) {
      this.disposed = true
      this.uml.releaseCpu()
      this.lifecycle.stopping = true
      this.channel.send({ t: 'shutdown' })
      const stopped = await Promise.race([
        this.exited.then(() => true),
        delay(SHUTDOWN_GRACE_MS, false, { ref: false }),
      ])
      if (!stopped) this.uml.process.kill('SIGKILL')
    }
    await this.exited
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose()
  }

  private receive(message: FromGuestMessage): void {
    if (message.t !== 'stdout' && message.t !== 'stderr' && message.t !== 'ipc' && message.t !== 'exit') return
    const handlers = this.processes.get(message.id)
    if (!handlers) return
    if (message.t === 'ipc') handlers.ipc(message.message)
    else if (message.t === 'exit') {
      this.processes.delete(message.id)
      handlers.exit(message)
    } else handlers.output(message.t, Buffer.from(message.data))
  }

  /**
   * Boots a guest and resolves once its agent is ready. On failure nothing is left running and
   * the error carries the console tail and the kernel command line.
   */
  static async boot(input: GuestOptions): Promise<Guest> {
    const options = parseGuestOptions(input)
    await checkGuestInputs(options)
    const mapLimit = options.mapLimit ?? (await hostMapLimit())
    const spoolDir = await createSpoolDir(options.cacheDir)
    const uml = await spawnUml(options, 'agent', spoolDir).catch(async (error: unknown) => {
      await removeSpoolDir(spoolDir)
      throw error
    })
    const consoleLog = new ConsoleLog()
    const lifecycle = { stopping: false }
    // The mark may straddle two chunks: each is searched with the end of the one before.
    let previousEnd = ''
    let diskFull = false
    const watchConsole = (chunk: Buffer) => {
      const text = chunk.toString()
      consoleLog.append(text)
      if (!diskFull && !lifecycle.stopping && `${previousEnd}${text}`.includes(DISK_FULL_CONSOLE_MARK)) {
        diskFull = true
        uml.process.kill('SIGKILL')
      }
      previousEnd = text.slice(-DISK_FULL_CONSOLE_MARK.length)
    }
    uml.process.stdout?.on('data', watchConsole)
    uml.process.stderr?.on('data', watchConsole)
    const channel = new HostChannel(uml.process.stdio[4] as Readable, uml.process.stdio[3] as Writable, spoolDir)
    // A guest that breaks the channel's protocol is stopped at once; its processes fail with why.
    let protocolError: UmlError | undefined
    // Switched off for the escape suite's controls: an error then goes unheard, as before the wall.
    if (!isWallOff()) {
      channel.on('error', (error) => {
        if (protocolError || lifecycle.stopping) return
        const consoleTail = consoleLog.tail()
        const what =
          error instanceof ChannelViolation
            ? `The guest sent the host ${error.message}`
            : `Its channel failed (${error.message})`
        protocolError = new UmlError(
          'UML_GUEST_PROTOCOL',
          `${what}, so the guest was stopped. Code in the guest tampered with its channel; if the test does nothing of the kind, report this as a bug in vitest-uml.`,
          { details: { violation: error.message, consoleTail }, evidence: `Console (last lines):\n${consoleTail}` },
        )
        uml.process.kill('SIGKILL')
      })
    }
    const context: FailureContext = {
      kernel: options.kernel.name,
      commandLine: uml.commandLine,
      console: consoleLog,
      diskMiB: options.diskMiB,
      imageWritable: options.imageWritable,
    }
    const stopWatching =
      mapLimit && uml.process.pid
        ? watchMapLimit(uml.process.pid, mapLimit, (reached) => {
            if (lifecycle.stopping) return
            context.mapLimit = reached
            uml.process.kill('SIGKILL')
          })
        : () => {}
    const exited = uml.exit.then(async (exitCode) => {
      stopWatching()
      channel.close()
      await removeSpoolDir(spoolDir)
      if (lifecycle.stopping) return undefined
      return protocolError ?? guestFailure({ ...context, exitCode }, 'died')
    })

    return await new Promise<Guest>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(guestFailure(context, 'boot-timeout', options.bootTimeoutMs)),
        options.bootTimeoutMs,
      )
      const done = () => {
        clearTimeout(timer)
        channel.off('message', onBootMessage)
      }
      void exited.then((failure) => {
        done()
        reject(failure)
      })
      const onBootMessage = (message: FromGuestMessage) => {
        if (message.t === 'hello') {
          // The kernel's session exists by now.
          if (uml.process.pid !== undefined) void keepNiceness(uml.process.pid)
          channel.send({
            t: 'setup',
            shares: options.shares.map((share, index) => ({
              source: sandboxSharePath(index),
              target: share.guestPath ?? share.hostPath,
              writable: share.writable,
              copyOnWrite: share.copyOnWrite && !share.writable,
            })),
          })
        } else if (message.t === 'ready') {
          done()
          // Made in the ready message's own event, so the guest hears every message after it.
          resolve(new Guest(uml, channel, consoleLog, lifecycle, message, exited))
        } else if (message.t === 'agent-error') {
          done()
          reject(
            new UmlError('UML_GUEST_PROTOCOL', `The guest agent failed to set up: ${message.message}`, {
              details: { consoleTail: consoleLog.tail() },
            }),
          )
        }
      }
      channel.on('message', onBootMessage)
      channel.start()
    }).catch(async (error: unknown) => {
      lifecycle.stopping = true
      uml.process.kill('SIGKILL')
      await exited
      throw error
    })
  }
}

/** False when the group is gone (the guest died meanwhile). */
function signalGroup(group: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-group, signal)
    return true
  } catch {
    return false
  }
}

/** The listed keys of an options object that are set, so unset ones stay off the wire. */
function pick<T extends object, K extends keyof T>(options: T, keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {}
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key]
  return picked
}
