import { parseArgs } from 'node:util'
import { writeChart } from './chart.js'
import { measureFirstRun } from './first-run.js'
import { measureGuestMemory } from './measure-guests.js'
import { type Mode, runSuite, type SuiteRun } from './measure-suite.js'
import { median, round } from './stats.js'

/** The targets, against which the figures are checked. */
const TARGETS = {
  default: 3.0,
  reuse: 1.5,
  bootMs: 800,
  leaseMs: 50,
  idleMiB: 40,
  firstRunSeconds: 60,
  preparedMs: 500,
}

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    guests: { type: 'string', default: '8' },
    chart: { type: 'string' },
  },
})
const runs = Number(values.runs)
const log = (line: string) => process.stderr.write(`${line}\n`)

// One untimed round first: Vite's caches, the page cache and the guest Node runtime warm up.
log('warming up (kernel, image, caches)...')
for (const mode of ['forks', 'uml'] as Mode[]) await runSuite(mode)

const results: SuiteRun[] = []
const modes: Mode[] = ['forks', 'uml', 'reuse']
for (let round = 0; round < runs; round++) {
  // Alternate the order, so drift on the machine does not favour one mode.
  const order = modes.map((_, index) => modes[(index + round) % modes.length]!)
  for (const mode of order) {
    const run = await runSuite(mode)
    log(`round ${round + 1}/${runs}: ${mode} ${(run.wallMs / 1000).toFixed(2)} s`)
    results.push(run)
  }
}

const wall = (mode: Mode) => median(results.filter((run) => run.mode === mode).map((run) => run.wallMs))
const phase = (name: string) =>
  median(results.filter((run) => run.mode === 'uml').flatMap((run) => run.phases[name] ?? []))
const medians = { forks: wall('forks'), uml: wall('uml'), reuse: wall('reuse') }
const ratios = { default: medians.uml / medians.forks, reuse: medians.reuse / medians.forks }
const phases = {
  prepareMs: phase('prepare'),
  bootMs: phase('boot'),
  leaseMs: phase('lease'),
  workerReadyMs: phase('worker-ready'),
  perFileMs: phase('file'),
  teardownMs: phase('teardown'),
}

log(`measuring host memory of ${values.guests} guests...`)
const memory = await measureGuestMemory(Number(values.guests))
log('measuring 16 guests at once...')
const sixteen = await measureGuestMemory(16)
log('measuring a first run on an empty cache (kernel fetch and image build)...')
const firstRunSeconds = await measureFirstRun()

const report = {
  machine: { cpus: (await import('node:os')).availableParallelism(), node: process.version },
  runs,
  mediansMs: { forks: round(medians.forks, 0), uml: round(medians.uml, 0), reuse: round(medians.reuse, 0) },
  ratios: { default: round(ratios.default), reuse: round(ratios.reuse) },
  phasesMs: Object.fromEntries(Object.entries(phases).map(([key, value]) => [key, round(value, 1)])),
  memoryMiB: {
    idlePerGuest: round(memory.idleMiBPerGuest, 1),
    busyPerGuest: round(memory.busyMiBPerGuest, 1),
    sixteenGuestsFit: sixteen.allReady,
    sixteenGuestsBusyTotal: round(sixteen.busyMiBPerGuest * 16, 0),
  },
  firstRunSeconds: round(firstRunSeconds, 1),
  targets: {
    default: ratios.default <= TARGETS.default,
    reuse: ratios.reuse <= TARGETS.reuse,
    boot: phases.bootMs <= TARGETS.bootMs,
    lease: phases.leaseMs <= TARGETS.leaseMs,
    idleMemory: memory.idleMiBPerGuest <= TARGETS.idleMiB,
    sixteenGuests: sixteen.allReady,
    firstRun: firstRunSeconds <= TARGETS.firstRunSeconds,
    cachedStartup: phases.prepareMs <= TARGETS.preparedMs,
  },
}

const check = (met: boolean) => (met ? 'met' : 'MISSED')
const lines = [
  `vitest-uml bench: 24 files, ${runs} runs per mode, medians`,
  `  forks (host)          ${(medians.forks / 1000).toFixed(2)} s`,
  `  uml default           ${(medians.uml / 1000).toFixed(2)} s   ${report.ratios.default}x forks  (target <= ${TARGETS.default}x: ${check(report.targets.default)})`,
  `  uml isolate: false    ${(medians.reuse / 1000).toFixed(2)} s   ${report.ratios.reuse}x forks  (target <= ${TARGETS.reuse}x: ${check(report.targets.reuse)})`,
  'phases (uml default, medians)',
  `  cached start-up       ${report.phasesMs.prepareMs} ms  (target <= ${TARGETS.preparedMs}: ${check(report.targets.cachedStartup)})`,
  `  boot to agent ready   ${report.phasesMs.bootMs} ms  (target <= ${TARGETS.bootMs}: ${check(report.targets.boot)})`,
  `  lease a warm guest    ${report.phasesMs.leaseMs} ms  (target <= ${TARGETS.leaseMs}: ${check(report.targets.lease)})`,
  `  worker ready          ${report.phasesMs.workerReadyMs} ms`,
  `  per file              ${report.phasesMs.perFileMs} ms`,
  `  teardown              ${report.phasesMs.teardownMs} ms`,
  'host memory',
  `  idle guest            ${report.memoryMiB.idlePerGuest} MiB  (target <= ${TARGETS.idleMiB}: ${check(report.targets.idleMemory)})`,
  `  busy guest            ${report.memoryMiB.busyPerGuest} MiB (with a Vitest worker loaded)`,
  `  16 guests at once     ${sixteen.allReady ? 'all ready' : 'NOT all ready'}, ${report.memoryMiB.sixteenGuestsBusyTotal} MiB busy in all`,
  `first run, empty cache  ${report.firstRunSeconds} s  (target <= ${TARGETS.firstRunSeconds}: ${check(report.targets.firstRun)})`,
]
process.stdout.write(`${lines.join('\n')}\n`)
if (values.chart) {
  await writeChart(values.chart, `24 test files, median of ${runs} runs, ${report.machine.cpus} cores`, [
    { label: '--pool=forks (host)', seconds: medians.forks / 1000 },
    { label: '--pool=uml', seconds: medians.uml / 1000 },
    { label: '--pool=uml --no-isolate', seconds: medians.reuse / 1000 },
  ])
}
if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`)
