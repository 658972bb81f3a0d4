import { appendFileSync } from 'node:fs'

/** Where the benchmark asks the pool to record how long each phase took (JSON lines). */
const TIMINGS_FILE = process.env.VITEST_UML_TIMINGS

export type TimingPhase = 'prepare' | 'boot' | 'lease' | 'worker-ready' | 'file' | 'teardown'

/** Records one phase's duration for `pnpm bench`; does nothing unless VITEST_UML_TIMINGS is set. */
export function recordTiming(phase: TimingPhase, ms: number): void {
  if (TIMINGS_FILE) appendFileSync(TIMINGS_FILE, `${JSON.stringify({ phase, ms: Math.round(ms * 10) / 10 })}\n`)
}
