import { createWriteStream, type WriteStream } from 'node:fs'
import { diesWithParent, UmlError } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'

/** Lines of the log a failure message quotes. */
const TAIL_LINES = 25

export interface StepOptions {
  cwd: string
  /** What the step does, for the message: "make olddefconfig". */
  what: string
  /** Called with each line the step prints (Kbuild's "  CC  fs/ext4/inode.o"), for progress. */
  onLine?: (line: string) => void
}

/**
 * The log of one kernel build: every step's command and output, in order, in one file that
 * outlives a failed build. Steps run in a process group that dies with this process.
 */
export class BuildLog {
  private readonly stream: WriteStream
  private tail: string[] = []

  constructor(
    readonly path: string,
    private readonly kernel: string,
  ) {
    this.stream = createWriteStream(path, { flags: 'w' })
  }

  write(text: string): void {
    this.stream.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /** Runs one step; a failure is UML_KERNEL_BUILD_FAILED with the log's last lines and its path. */
  async run(command: string, args: string[], options: StepOptions): Promise<void> {
    this.write(`$ ${[command, ...args].join(' ')}`)
    const [file, groupArgs] = await diesWithParent(
      command,
      args,
      'to stop kernel builds with the process that started them',
    )
    const { execa } = await loadExeca()
    const child = execa(file, groupArgs, {
      cwd: options.cwd,
      detached: true,
      reject: false,
      stdin: 'ignore',
      all: true,
      buffer: false,
      // Kbuild's messages in English whatever the host's locale, for the log and its readers.
      env: { LC_ALL: 'C' },
    })
    let pending = ''
    child.all?.on('data', (chunk: Buffer) => {
      this.stream.write(chunk)
      const lines = (pending + chunk.toString()).split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines) this.keep(line, options)
    })
    const result = await child
    if (pending) this.keep(pending, options)
    if (!result.failed) return
    const status = result.exitCode === undefined ? (result.signal ?? result.shortMessage) : `exit ${result.exitCode}`
    this.write(`# ${options.what} failed (${status})`)
    await this.close()
    throw new UmlError(
      'UML_KERNEL_BUILD_FAILED',
      `Building kernel ${this.kernel} failed: ${options.what} (${status}). The whole log is ${this.path}; its last lines:\n` +
        `${this.tail.join('\n')}\nFix the recipe's config fragment or source, then build again; nothing was cached.`,
      { details: { kernel: this.kernel, logPath: this.path, step: options.what, exitCode: result.exitCode } },
    )
  }

  async close(): Promise<void> {
    if (this.stream.closed) return
    await new Promise<void>((resolve) => this.stream.end(resolve))
  }

  private keep(line: string, options: StepOptions): void {
    this.tail.push(line)
    if (this.tail.length > TAIL_LINES) this.tail.shift()
    options.onLine?.(line)
  }
}
