import type { Readable, Writable } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { UmlError } from '@vitest-uml/core'
import type { AgentMessage, ExitMessage, ReadyMessage } from '@vitest-uml/protocol'
import { ConsoleLog } from './console-log.js'
import { guestFailure } from './guest-failure.js'
import { type GuestOptions, guestOptionsSchema } from './guest-options.js'
import { HostChannel } from './host-channel.js'
import { type SpawnedUml, spawnUml } from './spawn-uml.js'

/** How long a guest gets to power off by itself before its sandbox is killed. */
const SHUTDOWN_GRACE_MS = 3000

export interface ExecOptions {
  env?: Record<string, string>
  cwd?: string
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

interface PendingExec {
  options: ExecOptions
  stdout: Buffer[]
  stderr: Buffer[]
  resolve: (result: ExecResult) => void
  reject: (error: Error) => void
}

/** A booted guest, ready to run commands as root until disposed. */
export class Guest {
  private nextId = 1
  private readonly pending = new Map<number, PendingExec>()
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
      for (const entry of this.pending.values()) entry.reject(this.failure)
      this.pending.clear()
    })
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
    if (this.failure) return Promise.reject(this.failure)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { options, stdout: [], stderr: [], resolve, reject })
      this.channel.send({
        t: 'exec',
        id,
        argv,
        ...(options.env && { env: options.env }),
        ...(options.cwd && { cwd: options.cwd }),
      })
    })
  }

  /** Powers the guest off (killing it if it does not stop in time); its disk and memory go with it. */
  async dispose(): Promise<void> {
    if (!this.disposed) {
      this.disposed = true
      this.lifecycle.stopping = true
      this.channel.send({ t: 'shutdown' })
      const stopped = await Promise.race([this.exited.then(() => true), delay(SHUTDOWN_GRACE_MS, false)])
      if (!stopped) this.uml.process.kill('SIGKILL')
    }
    await this.exited
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose()
  }

  private receive(message: AgentMessage): void {
    if (message.t === 'stdout' || message.t === 'stderr') {
      const entry = this.pending.get(message.id)
      const data = Buffer.from(message.data)
      const callback = message.t === 'stdout' ? entry?.options.onStdout : entry?.options.onStderr
      if (callback) callback(data)
      else entry?.[message.t].push(data)
    } else if (message.t === 'exit') {
      this.finish(message)
    }
  }

  private finish(message: ExitMessage): void {
    const entry = this.pending.get(message.id)
    if (!entry) return
    this.pending.delete(message.id)
    if (message.error) {
      entry.reject(
        new UmlError('UML_COMMAND_FAILED', `Could not start the command in the guest: ${message.error}`, {
          details: { id: message.id },
        }),
      )
      return
    }
    entry.resolve({
      exitCode: message.code,
      signal: message.signal,
      stdout: Buffer.concat(entry.stdout).toString(),
      stderr: Buffer.concat(entry.stderr).toString(),
    })
  }

  /**
   * Boots a guest and resolves once its agent is ready. On failure nothing is left running and
   * the error carries the console tail and the kernel command line.
   */
  static async boot(input: GuestOptions): Promise<Guest> {
    const options = guestOptionsSchema.parse(input)
    const uml = await spawnUml(options, 'agent')
    const consoleLog = new ConsoleLog()
    uml.process.stdout?.on('data', (chunk: Buffer) => consoleLog.append(chunk.toString()))
    uml.process.stderr?.on('data', (chunk: Buffer) => consoleLog.append(chunk.toString()))
    const channel = new HostChannel(uml.process.stdio[4] as Readable, uml.process.stdio[3] as Writable)
    const lifecycle = { stopping: false }
    const context = { kernel: options.kernel.name, commandLine: uml.commandLine, console: consoleLog }
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
            shares: options.shares.map((share) => ({
              source: share.hostPath,
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
