import { appendFileSync } from 'node:fs'

/** Where the benchmark asks the pool to record how long each phase took (JSON lines). */
const TIMINGS_FILE = process.env.VITEST_UML_TIMINGS

export type TimingPhase =
  | 'prepare'
  | 'boot'
  | 'lease'
  | 'worker-ready'
  | 'file'
  | 'teardown'
  | 'host-cpu'
  | 'wall-prepare'

/** What one test file cost (see FileStats). */
export interface FileStatsRecord {
  wallMs: number
  /** Each RPC round trip of the worker, from request to response as the host saw them. */
  rpcMs: number[]
  bytesToGuest: number
  bytesFromGuest: number
  guestCpuMs: number
  /** Host time spent in the RPC wall's checks of the file's messages, both ways (0 with the wall off). */
  wallChecksMs: number
}

/** Whether the benchmark asked for timings (VITEST_UML_TIMINGS), so measuring is worth its cost. */
export const recordsTimings = TIMINGS_FILE !== undefined && TIMINGS_FILE !== ''

/** Records one phase's duration for `pnpm bench`; does nothing unless VITEST_UML_TIMINGS is set. */
export function recordTiming(phase: TimingPhase, ms: number): void {
  if (recordsTimings) append({ phase, ms: Math.round(ms * 10) / 10 })
}

/** Records one file's costs for `pnpm bench`; does nothing unless VITEST_UML_TIMINGS is set. */
export function recordFileStats(stats: FileStatsRecord): void {
  if (recordsTimings) append({ phase: 'file-stats', ...stats })
}

/** Records the CPU time of this (the Vitest) process so far, for `pnpm bench`. */
export function recordHostCpu(): void {
  const { user, system } = process.cpuUsage()
  if (recordsTimings) append({ phase: 'host-cpu', ms: (user + system) / 1000 })
}

function append(record: object): void {
  appendFileSync(TIMINGS_FILE as string, `${JSON.stringify(record)}\n`)
}
