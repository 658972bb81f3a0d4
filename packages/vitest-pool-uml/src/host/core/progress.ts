/** A sink for long-running steps (downloads, image builds). */
export interface Progress {
  /** A step starts; `total` in `unit`s (bytes unless told) when known. */
  start(label: string, total?: number, unit?: ProgressUnit): void
  /** Work done so far in the current step, in the unit `start` named. */
  update(done: number): void
  /** The current step ended. */
  end(summary?: string): void
}

/** What a step counts: bytes, or things such as the files a compiler has compiled. */
export type ProgressUnit = 'bytes' | { one: string; many: string }

export const silentProgress: Progress = { start() {}, update() {}, end() {} }

const REDRAW_INTERVAL_MS = 100

/**
 * On a terminal, one line redrawn in place with a running count; elsewhere (CI logs, pipes)
 * only a line when a step starts and one when it ends, so logs stay short.
 */
export function createStreamProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const live = stream.isTTY === true && !process.env.CI
  let label = ''
  let total: number | undefined
  let unit: ProgressUnit = 'bytes'
  let startedAt = 0
  let lastDraw = 0
  return {
    start(nextLabel, nextTotal, nextUnit = 'bytes') {
      label = nextLabel
      total = nextTotal
      unit = nextUnit
      startedAt = Date.now()
      lastDraw = 0
      if (!live) stream.write(`${label}...\n`)
    },
    update(done) {
      if (!live) return
      const now = Date.now()
      if (now - lastDraw < REDRAW_INTERVAL_MS) return
      lastDraw = now
      const format = (count: number) =>
        unit === 'bytes' ? formatBytes(count) : `${count} ${count === 1 ? unit.one : unit.many}`
      const amount = total ? `${format(done)} / ${format(total)}` : format(done)
      stream.write(`\r\x1b[2K${label}: ${amount}`)
    },
    end(summary) {
      const seconds = ((Date.now() - startedAt) / 1000).toFixed(1)
      const text = `${label}: ${summary ?? 'done'} (${seconds} s)`
      stream.write(live ? `\r\x1b[2K${text}\n` : `${text}\n`)
    },
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
