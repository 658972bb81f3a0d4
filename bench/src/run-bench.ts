import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { writeChart } from './chart.js'
import { measureFirstRun } from './first-run.js'
import { measureChannel } from './measure-channel.js'
import { measureGuestMemory } from './measure-guests.js'
import { measureKernelsSection } from './measure-kernels.js'
import { measureNetwork } from './measure-network.js'
import { pullSection } from './measure-pull.js'
import { type Mode, runSuite, type SuiteRun, WORKLOADS, type Workload } from './measure-suite.js'
import { measureWallCost } from './measure-wall.js'
import { median, percentile, round } from './stats.js'

/** The issue's targets, against which the figures are checked. */
const TARGETS = {
  default: 2.0,
  reuse: 1.5,
  importHeavy: 3.0,
  importHeavyReuse: 1.5,
  roundTripP50Ms: 0.5,
  channelMBps: 50,
  bootMs: 800,
  leaseMs: 50,
  idleMiB: 40,
  firstRunSeconds: 60,
  preparedMs: 500,
  networkBootExtraMs: 100,
  downloadMBps: 50,
  wallCostPercent: 2,
}

/** One part of the bench: what it measured, for the JSON line, the printout and the targets. */
interface SectionResult {
  report: Record<string, unknown>
  lines: string[]
  targets: Record<string, boolean>
}

interface Section {
  name: string
  run(): Promise<SectionResult>
}

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    runs: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    guests: { type: 'string', default: '8' },
    chart: { type: 'string' },
    /** Sections to leave out, by name (for a quicker look while working). */
    skip: { type: 'string', default: '' },
  },
})
const runs = Number(values.runs)
const skipped = new Set(values.skip.split(',').filter(Boolean))
const log = (line: string) => process.stderr.write(`${line}\n`)
const check = (met: boolean) => (met ? 'met' : 'MISSED')
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

/** Each guest mode against the same mode of --pool=forks, and the JSON key of its ratio. */
const COMPARISONS: Array<{ workload: keyof typeof WORKLOADS; guest: Mode; forks: Mode; key: string }> = [
  { workload: 'mixed', guest: 'uml', forks: 'forks', key: 'default' },
  { workload: 'mixed', guest: 'fresh-kernel', forks: 'forks', key: 'freshKernel' },
  { workload: 'mixed', guest: 'reuse', forks: 'forks-reuse', key: 'reuse' },
  { workload: 'imports', guest: 'uml', forks: 'forks', key: 'importHeavy' },
  { workload: 'imports', guest: 'fresh-kernel', forks: 'forks', key: 'importHeavyFreshKernel' },
  { workload: 'imports', guest: 'reuse', forks: 'forks-reuse', key: 'importHeavyReuse' },
]

const MODE_LABELS: Record<Mode, string> = {
  forks: '--pool=forks',
  'forks-reuse': '--pool=forks --no-isolate',
  uml: '--pool=uml',
  'fresh-kernel': '--pool=uml, freshKernel',
  reuse: '--pool=uml --no-isolate',
}

/** Runs every workload in every mode, alternating the order each round so drift favours none. */
async function measureSuites(): Promise<SectionResult> {
  const modes: Mode[] = ['forks', 'uml', 'fresh-kernel', 'forks-reuse', 'reuse']
  const results: SuiteRun[] = []
  for (const workload of Object.values(WORKLOADS) as Workload[]) {
    await workload.prepare?.()
    // One untimed round first: Vite's caches, the page cache and the guest Node runtime warm up.
    log(`${workload.name}: warming up (kernel, image, caches)...`)
    for (const mode of ['forks', 'uml'] as Mode[]) await runSuite(workload, mode)
    for (let round = 0; round < runs; round++) {
      for (const mode of modes.map((_, index) => modes[(index + round) % modes.length]!)) {
        const run = await runSuite(workload, mode)
        log(`${workload.name} round ${round + 1}/${runs}: ${MODE_LABELS[mode]} ${seconds(run.wallMs)}`)
        results.push(run)
      }
    }
  }
  const of = (workload: Workload, mode: Mode) =>
    results.filter((run) => run.workload === workload.name && run.mode === mode)
  const wall = (workload: Workload, mode: Mode) => median(of(workload, mode).map((run) => run.wallMs))
  const report: Record<string, unknown> = {}
  const ratios: Record<string, number> = {}
  const targets: Record<string, boolean> = {}
  const lines: string[] = []
  for (const workload of Object.values(WORKLOADS) as Workload[]) {
    lines.push(`${workload.name} workload: ${workload.files} files, ${runs} runs per mode, medians`)
    lines.push('  (CPU per file: forks = Vitest and its workers; guests = the Vitest process, then the guest)')
    const perMode: Record<string, unknown> = {}
    for (const mode of modes) {
      const runsOfMode = of(workload, mode)
      const comparison = COMPARISONS.find((entry) => WORKLOADS[entry.workload] === workload && entry.guest === mode)
      const ratio = comparison && wall(workload, mode) / wall(workload, comparison.forks)
      const perFile = perFileFigures(runsOfMode, workload.files)
      perMode[mode] = { wallMs: round(wall(workload, mode), 0), ...perFile }
      let line = `  ${MODE_LABELS[mode].padEnd(28)} ${seconds(wall(workload, mode))}`
      if (comparison && ratio !== undefined) {
        ratios[comparison.key] = round(ratio)
        line += `  ${round(ratio)}x ${MODE_LABELS[comparison.forks]}`
        const target = TARGETS[comparison.key as keyof typeof TARGETS] as number | undefined
        if (target !== undefined) {
          targets[comparison.key] = ratio <= target
          line += ` (target <= ${target}x: ${check(targets[comparison.key]!)})`
        }
      }
      lines.push(line)
      if (perFile.rpcsPerFile === undefined) lines.push(`    per file: CPU ${perFile.hostCpuMsPerFile} ms`)
      else {
        lines.push(
          `    per file: ${perFile.rpcsPerFile} RPCs (p50 ${perFile.rpcP50Ms} ms, p99 ${perFile.rpcP99Ms} ms), ${perFile.kbToGuestPerFile} kB to the guest, ${perFile.kbFromGuestPerFile} kB back, guest CPU ${perFile.guestCpuMsPerFile} ms, host CPU ${perFile.hostCpuMsPerFile} ms`,
        )
      }
    }
    report[workload.name] = perMode
  }
  const uml = results.filter((run) => run.mode === 'uml')
  const phase = (name: string) => median(uml.flatMap((run) => run.phases[name] ?? []))
  const phasesMs = {
    prepareMs: round(phase('prepare'), 1),
    bootMs: round(phase('boot'), 1),
    leaseMs: round(phase('lease'), 1),
    workerReadyMs: round(phase('worker-ready'), 1),
    perFileMs: round(phase('file'), 1),
    teardownMs: round(phase('teardown'), 1),
  }
  Object.assign(targets, {
    boot: phasesMs.bootMs <= TARGETS.bootMs,
    lease: phasesMs.leaseMs <= TARGETS.leaseMs,
    cachedStartup: phasesMs.prepareMs <= TARGETS.preparedMs,
  })
  lines.push(
    'phases (--pool=uml, both workloads, medians)',
    `  cached start-up       ${phasesMs.prepareMs} ms  (target <= ${TARGETS.preparedMs}: ${check(targets.cachedStartup!)})`,
    `  boot to agent ready   ${phasesMs.bootMs} ms  (target <= ${TARGETS.bootMs}: ${check(targets.boot!)})`,
    `  lease a warm guest    ${phasesMs.leaseMs} ms  (target <= ${TARGETS.leaseMs}: ${check(targets.lease!)})`,
    `  worker ready          ${phasesMs.workerReadyMs} ms`,
    `  per file              ${phasesMs.perFileMs} ms`,
    `  teardown              ${phasesMs.teardownMs} ms`,
  )
  if (values.chart) {
    const bars = Object.values(WORKLOADS).flatMap((workload: Workload) =>
      modes.map((mode) => ({ label: `${workload.name} ${MODE_LABELS[mode]}`, seconds: wall(workload, mode) / 1000 })),
    )
    await writeChart(values.chart, `median of ${runs} runs, ${availableParallelism()} cores`, bars)
  }
  return { report: { suites: report, ratios, phasesMs }, lines, targets }
}

/** Per-file figures of one mode's runs (guest figures only where the pool recorded them). */
function perFileFigures(runs: SuiteRun[], files: number) {
  const hostCpuMsPerFile = median(runs.map((run) => run.cpuMs)) / files
  const stats = runs.flatMap((run) => run.files)
  if (stats.length === 0) return { hostCpuMsPerFile: round(hostCpuMsPerFile, 0) }
  // Without isolation one record covers several files: sums per run, divided by the files.
  const perRun = (value: (run: SuiteRun) => number) => median(runs.map(value)) / files
  const sum = (run: SuiteRun, pick: (file: SuiteRun['files'][number]) => number) =>
    run.files.reduce((total, file) => total + pick(file), 0)
  const rpcMs = stats.flatMap((file) => file.rpcMs)
  const guestCpuMsPerFile = perRun((run) => sum(run, (file) => file.guestCpuMs))
  return {
    rpcsPerFile: round(
      perRun((run) => sum(run, (file) => file.rpcMs.length)),
      0,
    ),
    rpcP50Ms: round(percentile(rpcMs, 50), 2),
    rpcP99Ms: round(percentile(rpcMs, 99), 1),
    kbToGuestPerFile: round(perRun((run) => sum(run, (file) => file.bytesToGuest)) / 1000, 0),
    kbFromGuestPerFile: round(perRun((run) => sum(run, (file) => file.bytesFromGuest)) / 1000, 0),
    guestCpuMsPerFile: round(guestCpuMsPerFile, 0),
    hostCpuMsPerFile: round(hostCpuMsPerFile, 0),
  }
}

async function measureChannelSection(): Promise<SectionResult> {
  const channel = await measureChannel()
  const targets = {
    roundTrip: channel.roundTripP50Ms <= TARGETS.roundTripP50Ms,
    channelThroughput: Math.min(channel.toGuestMBps, channel.fromGuestMBps) >= TARGETS.channelMBps,
  }
  return {
    report: { channel: Object.fromEntries(Object.entries(channel).map(([key, value]) => [key, round(value, 2)])) },
    lines: [
      'channel (host <-> a Node process in the guest, through the agent)',
      `  round trip            p50 ${round(channel.roundTripP50Ms, 2)} ms, p99 ${round(channel.roundTripP99Ms, 2)} ms  (target p50 <= ${TARGETS.roundTripP50Ms}: ${check(targets.roundTrip)})`,
      `  throughput            to the guest ${round(channel.toGuestMBps, 1)} MB/s, back ${round(channel.fromGuestMBps, 1)} MB/s  (target >= ${TARGETS.channelMBps}: ${check(targets.channelThroughput)})`,
    ],
    targets,
  }
}

async function measureMemorySection(): Promise<SectionResult> {
  const memory = await measureGuestMemory(Number(values.guests))
  log('measuring 16 guests at once...')
  const sixteen = await measureGuestMemory(16)
  const targets = { idleMemory: memory.idleMiBPerGuest <= TARGETS.idleMiB, sixteenGuests: sixteen.allReady }
  return {
    report: {
      memoryMiB: {
        idlePerGuest: round(memory.idleMiBPerGuest, 1),
        busyPerGuest: round(memory.busyMiBPerGuest, 1),
        sixteenGuestsFit: sixteen.allReady,
        sixteenGuestsBusyTotal: round(sixteen.busyMiBPerGuest * 16, 0),
      },
    },
    lines: [
      'host memory (PSS of the sandbox processes, median guest)',
      `  idle guest            ${round(memory.idleMiBPerGuest, 1)} MiB  (target <= ${TARGETS.idleMiB}: ${check(targets.idleMemory)})`,
      `  busy guest            ${round(memory.busyMiBPerGuest, 1)} MiB (with a Vitest worker loaded)`,
      `  16 guests at once     ${sixteen.allReady ? 'all ready' : 'NOT all ready'}, ${round(sixteen.busyMiBPerGuest * 16, 0)} MiB busy in all`,
    ],
    targets,
  }
}

async function measureFirstRunSection(): Promise<SectionResult> {
  const firstRunSeconds = await measureFirstRun()
  const met = firstRunSeconds <= TARGETS.firstRunSeconds
  return {
    report: { firstRunSeconds: round(firstRunSeconds, 1) },
    lines: [
      `first run, empty cache  ${round(firstRunSeconds, 1)} s  (target <= ${TARGETS.firstRunSeconds}: ${check(met)})`,
    ],
    targets: { firstRun: met },
  }
}

async function measureNetworkSection(): Promise<SectionResult> {
  const network = await measureNetwork()
  const extraMs = network.bootWithNetworkMs - network.bootMs
  const targets = {
    networkBoot: extraMs < TARGETS.networkBootExtraMs,
    download: network.downloadMBps >= TARGETS.downloadMBps,
  }
  return {
    report: { network: Object.fromEntries(Object.entries(network).map(([key, value]) => [key, round(value, 1)])) },
    lines: [
      'network (network: true; medians of alternating runs on a shared machine)',
      `  boot to agent ready   ${round(network.bootMs, 0)} ms without, ${round(network.bootWithNetworkMs, 0)} ms with  (target < +${TARGETS.networkBootExtraMs} ms: ${check(targets.networkBoot)})`,
      `  download from host    ${round(network.downloadMBps, 1)} MB/s  (target >= ${TARGETS.downloadMBps}: ${check(targets.download)})`,
      `  host CPU per MB       helper ${round(network.helperCpuMsPerMB, 2)} ms, guest ${round(network.guestCpuMsPerMB, 2)} ms`,
      `  helper memory         ${round(network.helperMiB, 1)} MiB (PSS of the relay and slirp4netns)`,
    ],
    targets,
  }
}

/** The RPC wall's cost where it checks the most: module fetches of the import-heavy suite. */
async function measureWallSection(): Promise<SectionResult> {
  await WORKLOADS.imports.prepare()
  const costs = await measureWallCost(WORKLOADS.imports, ['uml', 'reuse'], runs, log)
  const targets = Object.fromEntries(
    costs.map((cost) => [`wall-${cost.mode}`, cost.checksPercent <= TARGETS.wallCostPercent]),
  )
  return {
    report: {
      wallCost: Object.fromEntries(
        costs.map((cost) => [
          cost.mode,
          {
            onMs: round(cost.onMs, 0),
            offMs: round(cost.offMs, 0),
            percent: round(cost.costPercent, 1),
            checksMs: round(cost.checksMs, 0),
            checksPercent: round(cost.checksPercent, 2),
          },
        ]),
      ),
    },
    lines: [
      `the RPC wall (import-heavy workload, on against switched off, ${runs} alternating runs, medians)`,
      ...costs.map(
        (cost) =>
          `  ${MODE_LABELS[cost.mode].padEnd(28)} ${seconds(cost.onMs)} against ${seconds(cost.offMs)} (${round(cost.costPercent, 1)}%, within the noise); the checks took ${seconds(cost.checksMs)}, ${round(cost.checksPercent, 2)}% of the run  (target <= ${TARGETS.wallCostPercent}%: ${check(targets[`wall-${cost.mode}`] as boolean)})`,
      ),
    ],
    targets,
  }
}

/** The bench's parts, in order; a new measurement is one more entry. */
const SECTIONS: Section[] = [
  { name: 'suites', run: measureSuites },
  { name: 'wall', run: measureWallSection },
  { name: 'channel', run: measureChannelSection },
  { name: 'memory', run: measureMemorySection },
  { name: 'network', run: measureNetworkSection },
  { name: 'pull', run: pullSection },
  { name: 'first-run', run: measureFirstRunSection },
  { name: 'kernels', run: () => measureKernelsSection(runs) },
]

const report: Record<string, unknown> = { machine: { cpus: availableParallelism(), node: process.version }, runs }
const targets: Record<string, boolean> = {}
const lines = ['vitest-uml bench']
for (const section of SECTIONS.filter((entry) => !skipped.has(entry.name))) {
  log(`measuring ${section.name}...`)
  const result = await section.run()
  Object.assign(report, result.report)
  Object.assign(targets, result.targets)
  lines.push(...result.lines)
}
process.stdout.write(`${lines.join('\n')}\n`)
if (values.json) process.stdout.write(`${JSON.stringify({ ...report, targets })}\n`)
