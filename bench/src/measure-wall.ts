import { WALL_OFF_VARIABLE } from 'vitest-pool-uml/api'
import { type Mode, runSuite, type Workload } from './measure-suite.js'
import { median } from './stats.js'

export interface WallCost {
  mode: Mode
  onMs: number
  offMs: number
  /** (on - off) / off, in percent: what a user waits longer, within the noise of the machine. */
  costPercent: number
  /** Host time the wall's checks took in a run (median of the wall-on runs). */
  checksMs: number
  /** checksMs / onMs, in percent: the checks' own share of the run, which load does not blur. */
  checksPercent: number
}

/**
 * What the RPC wall costs: the same suite in the same mode with the wall on and switched off
 * (its escape-suite control), alternating each round so drift favours neither.
 */
export async function measureWallCost(
  workload: Workload,
  modes: Mode[],
  runs: number,
  log: (line: string) => void,
): Promise<WallCost[]> {
  const costs: WallCost[] = []
  for (const mode of modes) {
    const times = { on: [] as number[], off: [] as number[] }
    const checks: number[] = []
    for (let round = 0; round < runs; round++) {
      const order: Array<'on' | 'off'> = round % 2 === 0 ? ['on', 'off'] : ['off', 'on']
      for (const wall of order) {
        const env: Record<string, string> = wall === 'off' ? { [WALL_OFF_VARIABLE]: '1' } : {}
        const { wallMs, files, phases } = await runSuite(workload, mode, [], env)
        // The checks of every message, and the one scan for what server.fs.deny hides.
        const prepare = (phases['wall-prepare'] ?? []).reduce((total, ms) => total + ms, 0)
        if (wall === 'on') checks.push(files.reduce((total, file) => total + file.wallChecksMs, prepare))
        log(`wall ${wall}, ${workload.name} ${mode} round ${round + 1}/${runs}: ${(wallMs / 1000).toFixed(2)} s`)
        times[wall].push(wallMs)
      }
    }
    const onMs = median(times.on)
    const offMs = median(times.off)
    const checksMs = median(checks)
    costs.push({
      mode,
      onMs,
      offMs,
      costPercent: ((onMs - offMs) / offMs) * 100,
      checksMs,
      checksPercent: (checksMs / onMs) * 100,
    })
  }
  return costs
}
