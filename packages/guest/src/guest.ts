import type { Readable, Writable } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { UmlError } from '@vitest-uml/core'
import type { AgentMessage, ExecMessage, ExitMessage, ForkMessage, ReadyMessage } from '@vitest-uml/protocol'
import { checkGuestInputs } from './check-inputs.js'
import { ConsoleLog } from './console-log.js'
import { DISK_FULL_CONSOLE_MARK, guestFailure } from './guest-failure.js'
import { type GuestOptions, guestOptionsSchema } from './guest-options.js'
import { GuestProcess } from './guest-process.js'
import { HostChannel } from './host-channel.js'
import { type SpawnedUml, sandboxSharePath, spawnUml } from './spawn-uml.js'

/** How long a guest gets to power off by itself before its sandbox is killed. */
const SHUTDOWN_GRACE_MS = 3000

export interface ExecOptions {
  env?: Record<string, string>
  cwd?: string
  /** Guest user to run as; root by default. */
  user?: string
  onStdout?: (data: Uint8Array) => void
  onStderr?: (data: Uint8Array) => void
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
  private disposed = false
  private failure: UmlError | undefined

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

  get kernelRelease(): string {
    return this.ready.kernelRelease
  }

  get osRelease(): Record<string, string> {
    return this.ready.osRelease
  }

  consoleTail(lines?: number): string {
    return this.consoleLog.tail(lines)
  }

  /** Runs a command as root in the guest and resolves with its exit status. */
  exec(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const collected = { stdout: [] as Buffer[], stderr: [] as Buffer[] }
      this.start(
        { t: 'exec', argv, ...pick(options, ['env', 'cwd', 'user']) },
        {
          output(stream, data) {
            const callback = stream === 'stdout' ? options.onStdout : options.onStderr
            if (callback) callback(data)
            else collected[stream].push(data)
          },
          ipc() {},
          exit(message) {
            if (message.error) {
              reject(
                new UmlError(
                  'UML_COMMAND_FAILED',
                  `Could not start ${JSON.stringify(argv[0])} in the guest: ${message.error}`,
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
      { t: 'fork', entry, ...pick(options, ['args', 'execArgv', 'env', 'cwd', 'user']) },
      {
        output: (stream, data) => process.emit(stream, data),
        ipc: (message) => process.emit('message', message),
        exit: (message) =>
          process.emit('exit', {
            code: message.code,
            signal: message.signal,
            ...(message.error && {
              error: new UmlError('UML_COMMAND_FAILED', `Could not start ${entry} in the guest: ${message.error}`),
            }),
          }),
        fail: (error) => process.emit('exit', { code: null, signal: null, error }),
      },
    )
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

  /** Powers the guest off (killing it if it does not stop in time); its disk and memory go with it. */
  async dispose(): Promise<void> {
    if (!this.disposed) {
      this.disposed = true
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

  private receive(message: AgentMessage): void {
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
    const options = guestOptionsSchema.parse(input)
    await checkGuestInputs(options)
    const uml = await spawnUml(options, 'agent')
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
    const channel = new HostChannel(uml.process.stdio[4] as Readable, uml.process.stdio[3] as Writable)
    const context = {
      kernel: options.kernel.name,
      commandLine: uml.commandLine,
      console: consoleLog,
      diskMiB: options.diskMiB,
      imageWritable: options.imageWritable,
    }
    const exited = uml.exit.then((exitCode) => {
      channel.close()
      return lifecycle.stopping ? undefined : guestFailure({ ...context, exitCode }, 'died')
    })

    const ready = await new Promise<ReadyMessage>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(guestFailure(context, 'boot-timeout', options.bootTimeoutMs)),
        options.bootTimeoutMs,
      )
      const done = () => clearTimeout(timer)
      void exited.then((failure) => {
        done()
        reject(failure)
      })
      channel.on('message', (message) => {
        if (message.t === 'hello') {
          channel.send({
            t: 'setup',
            shares: options.shares.map((share, index) => ({
              source: sandboxSharePath(index),
              target: share.guestPath ?? share.hostPath,
              writable: share.writable,
            })),
          })
        } else if (message.t === 'ready') {
          done()
          resolve(message)
        } else if (message.t === 'agent-error') {
          done()
          reject(
            new UmlError('UML_GUEST_PROTOCOL', `The guest agent failed to set up: ${message.message}`, {
              details: { consoleTail: consoleLog.tail() },
            }),
          )
        }
      })
    }).catch(async (error: unknown) => {
      lifecycle.stopping = true
      uml.process.kill('SIGKILL')
      await exited
      throw error
    })
    return new Guest(uml, channel, consoleLog, lifecycle, ready, exited)
  }
}

/** The listed keys of an options object that are set, so unset ones stay off the wire. */
function pick<T extends object, K extends keyof T>(options: T, keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {}
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key]
  return picked
}
