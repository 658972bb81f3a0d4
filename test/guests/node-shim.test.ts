import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import { bootGuest } from '../helpers/boot-guest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

// Each check brackets Node's clocks between two reads the guest kernel makes itself, after pauses
// short and long against the shim's resync interval: a file's modification time (the kernel's
// coarse clock, a tick of 10 ms behind, two when a tick comes late on a busy host) and
// /proc/uptime (10 ms steps).
const BRACKETS = `
const { readFileSync, statSync, writeFileSync } = require('node:fs')
const wallMs = () => { writeFileSync('/tmp/now', ''); return Math.floor(statSync('/tmp/now').mtimeMs) }
const uptimeNs = () => BigInt(readFileSync('/proc/uptime', 'utf8').split(' ')[0].replace('.', '')) * 10000000n
// Reading both clocks up to the check keeps their anchors fresh: the check reads extrapolated values.
const spin = (ms) => { const end = performance.now() + ms; do Date.now(); while (performance.now() < end) }
const results = []
for (const pause of [0, 2, 5, 50, 300]) {
  spin(pause)
  const wall1 = wallMs(), up1 = uptimeNs()
  const now = Date.now(), monotonic = process.hrtime.bigint()
  const wall2 = wallMs(), up2 = uptimeNs()
  results.push({ pause, realtime: wall1 <= now && now <= wall2 + 20, monotonic: up1 <= monotonic && monotonic < up2 + 10000000n })
}
console.log(JSON.stringify(results))
`

// Threads share one monotonic clock: a reading passed to another thread is never ahead of its own.
const THREADS = `
const { Worker } = require('node:worker_threads')
const worker = new Worker(\`
  const { parentPort } = require('node:worker_threads')
  parentPort.on('message', (theirs) => parentPort.postMessage([process.hrtime.bigint() >= theirs, process.hrtime.bigint()]))
\`, { eval: true })
let round = 0, backwards = 0
worker.on('message', ([ok, theirs]) => {
  if (!ok) backwards++
  if (process.hrtime.bigint() < theirs) backwards++
  if (++round === 2000) { console.log(backwards); worker.terminate() } else worker.postMessage(process.hrtime.bigint())
})
worker.postMessage(process.hrtime.bigint())
`

// A clock set in the guest reaches a running Node within the library's resync interval.
const SET_CLOCK = `
const { execFileSync } = require('node:child_process')
const before = Date.now()
execFileSync('date', ['-u', '-s', '@2000000000'])
setTimeout(() => console.log(before < 2000000000000, Date.now() >= 2000000000000), 20)
`

// Blocks from the C library's allocator, never touched: what they add to the process's RSS, in MiB.
// One of 8 MiB, then 256 of 60 KiB: each too small to be populated alone, they lie in the tail of
// the heap that the first of them populated as it grew; then 256 more in a worker thread, which
// takes them from the same heap.
const UNTOUCHED_BLOCKS = `
const { Worker } = require('node:worker_threads')
const grown = (before) => Math.round((process.memoryUsage().rss - before) / 1048576)
let before = process.memoryUsage().rss
const large = Buffer.allocUnsafeSlow(8 << 20)
const largeMiB = grown(before)
before = process.memoryUsage().rss
const small = Array.from({ length: 256 }, () => Buffer.allocUnsafeSlow(60 << 10))
const smallMiB = grown(before)
const thread = new Worker(
  'const before = process.memoryUsage().rss;' +
    'const small = Array.from({ length: 256 }, () => Buffer.allocUnsafeSlow(60 << 10));' +
    'require("node:worker_threads").parentPort.postMessage([Math.round((process.memoryUsage().rss - before) / 1048576), small.length])',
  { eval: true },
)
thread.once('message', ([threadMiB]) => {
  console.log(largeMiB, smallMiB, threadMiB, large.length + small.length)
  thread.terminate()
})
`

// Children started the ways Node starts them, and what each saw; then the main thread's minor page
// faults per spawnSync, which a fork's write-protected memory makes about 75 and vfork about 2.
const SPAWNS = `
const { execFileSync, execFile, spawnSync } = require('node:child_process')
const { Worker } = require('node:worker_threads')
process.env.KEPT = 'parent'
const seen = {}
seen.env = execFileSync('sh', ['-c', 'echo "$KEPT $ONLY_CHILD"'], { env: { KEPT: 'child', ONLY_CHILD: '1' }, encoding: 'utf8' }).trim()
seen.parentEnv = [process.env.KEPT, process.env.ONLY_CHILD ?? 'unset']
seen.cwd = execFileSync('pwd', { cwd: '/proc', encoding: 'utf8' }).trim()
seen.parentCwd = process.cwd() !== '/proc'
seen.status = spawnSync('sh', ['-c', 'exit 3']).status
seen.missing = spawnSync('/no/such/program').error.code
seen.input = spawnSync('cat', { input: 'fed', encoding: 'utf8' }).stdout
// fd 1 to the child's stderr and fd 2 to its stdout: the child moves the low one out of the way first.
seen.swapped = spawnSync('sh', ['-c', 'exec 3>&1 1>&2 2>&3'], { stdio: ['pipe', 2, 1] }).status
// As root (in a guest): a child that drops to nobody, which runs the C library's setuid in the child.
const asNobody = process.getuid() === 0 ? execFileSync('id', ['-u'], { uid: 65534, gid: 65534, encoding: 'utf8' }).trim() : 'not root'
const before = process.resourceUsage().minorPageFault
for (let i = 0; i < 20; i++) spawnSync('true')
const faultsPerSpawn = Math.round((process.resourceUsage().minorPageFault - before) / 20)
const thread = new Worker("const { execFileSync } = require('node:child_process'); require('node:worker_threads').parentPort.postMessage(execFileSync('echo', ['thread'], { encoding: 'utf8' }).trim())", { eval: true })
thread.once('message', (fromThread) => {
  seen.thread = fromThread
  let left = 10
  const outputs = []
  for (let i = 0; i < 10; i++) execFile('sh', ['-c', 'echo ' + i], (error, out) => {
    outputs[i] = error ? error.message : out.trim()
    if (--left === 0) { seen.concurrent = outputs.join(','); console.log(JSON.stringify({ seen, asNobody, faultsPerSpawn })) }
  })
})
`

describe.each(['7.2', '6.1'])("the guest Node's shim on kernel %s (seccomp and ptrace)", (kernel) => {
  it("takes the C library's clock, mprotect and allocator; its clocks agree with the kernel (realtime, monotonic across threads, a clock set with date -s) and blocks from its allocator arrive populated (a large one as it is handed out, small ones with the heap's tail, a thread's too)", async () => {
    const guest = await bootGuest({ kernel })
    try {
      const bindings = await guest.exec(['sh', '-c', 'LD_DEBUG=bindings node -e "performance.now(); Date.now()" 2>&1'])
      for (const symbol of ['clock_gettime', 'gettimeofday', 'mprotect', 'malloc', 'calloc', 'realloc']) {
        expect(bindings.stdout).toMatch(
          new RegExp(`binding file node \\[0\\] to \\S+/node-shim\\.so \\[0\\]: normal symbol \`${symbol}'`),
        )
      }
      const brackets = await guest.exec(['node', '-e', BRACKETS])
      expect(brackets.stderr).toBe('')
      expect(JSON.parse(brackets.stdout)).toEqual(
        [0, 2, 5, 50, 300].map((pause) => ({ pause, realtime: true, monotonic: true })),
      )
      const threads = await guest.exec(['node', '-e', THREADS])
      expect(threads.stdout.trim()).toBe('0')
      const set = await guest.exec(['node', '-e', SET_CLOCK])
      expect(set.stdout.trim()).toBe('true true')
      // Populated in the guest; the host's Node leaves them to the first touch.
      const blocks = await guest.exec(['node', '-e', UNTOUCHED_BLOCKS])
      const [largeMiB, smallMiB, threadMiB] = blocks.stdout.trim().split(' ').map(Number)
      expect(largeMiB).toBeGreaterThanOrEqual(7)
      expect(smallMiB).toBeGreaterThanOrEqual(12)
      expect(threadMiB).toBeGreaterThanOrEqual(12)
      const host = await execa(process.execPath, ['-e', UNTOUCHED_BLOCKS])
      const [hostLargeMiB, hostSmallMiB, hostThreadMiB] = host.stdout.trim().split(' ').map(Number)
      expect(hostLargeMiB).toBeLessThanOrEqual(1)
      expect(hostSmallMiB).toBeLessThanOrEqual(4)
      expect(hostThreadMiB).toBeLessThanOrEqual(4)
    } finally {
      await guest.dispose()
    }
  })

  it("starts libuv's children with vfork semantics (no write-protected parent), and they see what a fork's would: environment, cwd, stdio, exit status, a missing program, another user, threads and concurrent starts", async () => {
    const guest = await bootGuest({ kernel })
    try {
      const spawns = await guest.exec(['node', '-e', SPAWNS])
      expect(spawns.stderr).toBe('')
      const inGuest = JSON.parse(spawns.stdout) as { seen: unknown; asNobody: string; faultsPerSpawn: number }
      const host = await execa(process.execPath, ['-e', SPAWNS])
      const onHost = JSON.parse(host.stdout) as { seen: unknown; faultsPerSpawn: number }
      expect(inGuest.seen).toEqual({
        env: 'child 1',
        parentEnv: ['parent', 'unset'],
        cwd: '/proc',
        parentCwd: true,
        status: 3,
        missing: 'ENOENT',
        input: 'fed',
        swapped: 0,
        thread: 'thread',
        concurrent: '0,1,2,3,4,5,6,7,8,9',
      })
      expect(inGuest.seen).toEqual(onHost.seen)
      expect(inGuest.asNobody).toBe('65534')
      // The host's Node forks: the same count there shows the check can fail.
      expect(inGuest.faultsPerSpawn).toBeLessThan(20)
      expect(onHost.faultsPerSpawn).toBeGreaterThan(40)
    } finally {
      await guest.dispose()
    }
  })
})
