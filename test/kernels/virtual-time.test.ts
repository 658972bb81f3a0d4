import { readFile } from 'node:fs/promises'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bootGuest } from '../helpers/boot-guest.js'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { awaitBuiltKernels, KERNEL_BUILDS_TIMEOUT_MS } from '../helpers/kernel-builds.js'
import { runCli } from '../helpers/run-cli.js'
import { fileCounts, fileResults, runVitest } from '../helpers/run-vitest.js'
import { listUmlProcesses, waitForNoUmlProcesses } from '../helpers/uml-processes.js'

// custom-7.2, compiled in the background since the global setup.
beforeAll(awaitBuiltKernels, KERNEL_BUILDS_TIMEOUT_MS)

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

/**
 * A timer unit in shell, the way systemd's OnUnitActiveSec=15min runs a service: every 15 minutes
 * of the guest's clock the job runs, four times, each run logged with the clock's seconds.
 */
const TIMER_SCRIPT = `
runs=0
next=$(( $(date +%s) + 900 ))
while [ $runs -lt 4 ]; do
  now=$(date +%s)
  if [ $now -ge $next ]; then
    runs=$((runs + 1)); echo "run $runs at $now"; next=$((now + 900))
  else
    sleep $((next - now))
  fi
done
`

describe("time: 'virtual' (UML's time-travel mode)", () => {
  // Over two hours of the guest's time in all: the test's own timeout (minutes) shows they jumped.
  it('makes sleep 3600, timeout 600 sleep 700 and a 15-minute timer finish in seconds, with the guest clock moved on', async () => {
    const guest = await bootGuest({ kernel: 'custom-7.2', time: 'virtual' })
    try {
      const sleep = await guest.exec(['sh', '-c', 'date +%s; sleep 3600; date +%s'])
      const [before, after] = sleep.stdout.trim().split('\n').map(Number)
      expect(after! - before!).toBeGreaterThanOrEqual(3600)

      const timeout = await guest.exec(['sh', '-c', 'date +%s; timeout 600 sleep 700; echo "status $?"; date +%s'])
      const [start, status, end] = timeout.stdout.trim().split('\n')
      expect(status).toBe('status 124')
      expect(Number(end) - Number(start)).toBeGreaterThanOrEqual(600)
      expect(Number(end) - Number(start)).toBeLessThan(700)

      const timer = await guest.exec(['sh', '-c', TIMER_SCRIPT])
      const runs = [...timer.stdout.matchAll(/^run (\d) at (\d+)$/gm)].map((match) => Number(match[2]))
      expect(runs).toHaveLength(4)
      for (let i = 1; i < runs.length; i++) expect(runs[i]! - runs[i - 1]!).toBeGreaterThanOrEqual(900)
    } finally {
      await guest.dispose()
    }
  })

  it('stops a paused guest on the host (it would spin a CPU stepping its clock) and lets it go on', async () => {
    const guest = await bootGuest({ kernel: 'custom-7.2', time: 'virtual' })
    try {
      const [kernel] = listUmlProcesses()
      const state = async () => {
        const stat = await readFile(`/proc/${kernel?.split(' ')[0]}/stat`, 'utf8')
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      }
      expect(await state()).toMatch(/[RS]/)
      await guest.pause()
      expect(await state()).toBe('T')
      const before = await readFile(`/proc/${kernel?.split(' ')[0]}/stat`, 'utf8')
      await new Promise((resolve) => setTimeout(resolve, 1000))
      // No CPU used while stopped: utime and stime (fields 14 and 15) stand still.
      expect((await readFile(`/proc/${kernel?.split(' ')[0]}/stat`, 'utf8')).split(' ').slice(13, 15)).toEqual(
        before.split(' ').slice(13, 15),
      )
      guest.resume()
      expect((await guest.exec(['echo', 'going on'])).stdout).toBe('going on\n')
    } finally {
      await guest.dispose()
    }
  })

  it('is a coded error naming the fix on a kernel built without time travel (Debian 7.2)', async () => {
    const result = await runCli(['run', '--kernel', '7.2', '--time', 'virtual', '--', 'true'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('[UML_KERNEL_NO_TIME_TRAVEL]')
    expect(result.stderr).toContain(
      "Kernel 7.2 was not built with time travel (CONFIG_UML_TIME_TRAVEL_SUPPORT), which `time: 'virtual'` needs",
    )
    expect(result.stderr).toContain('custom-7.2')
  })

  it("keeps Vitest's testTimeout on host time: timers an hour long pass, a test busy past it fails", async () => {
    const fixture = await createFixtureProject('virtual-time', {
      'vitest.config.ts': umlConfig({ kernel: 'custom-7.2', time: 'virtual' }),
      'test/waits.test.ts': `import { execFileSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { expect, it } from 'vitest'

it('waits an hour on a timer and in a child process, within the 5 s testTimeout', async () => {
  const start = Date.now()
  await sleep(1_800_000)
  execFileSync('sleep', ['1800'])
  expect(Date.now() - start).toBeGreaterThanOrEqual(3_600_000)
})
`,
      'test/busy.test.ts': `import { execFileSync } from 'node:child_process'
import { it } from 'vitest'

// Work, not waiting: no jump of the guest's clock can end it sooner.
it('is busy for longer than testTimeout', () => {
  execFileSync('sh', ['-c', 'i=0; while [ $i -lt 100000000 ]; do i=$((i + 1)); done'])
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode, run.output).toBe(1)
      const files = fileResults(run, fixture.root)
      expect(files['test/waits.test.ts']?.status).toBe('passed')
      expect(files['test/busy.test.ts']?.status).toBe('failed')
      expect(files['test/busy.test.ts']?.message).toContain('[UML_TEST_TIMEOUT]')
      // Blocked in execFileSync, the worker cannot report the test's start: the host sees it go silent.
      expect(files['test/busy.test.ts']?.message).toMatch(
        /Test "is busy for longer than testTimeout" (ran longer than testTimeout \(5000|kept its worker from answering for longer than testTimeout and hookTimeout \(10000) ms of host time/,
      )
      expect(fileCounts(run)).toEqual({ passed: 1, failed: 1 })
    } finally {
      await fixture.remove()
    }
  })
})

describe('clock', () => {
  it('starts the guest clock at 2038-01-19T03:14:08Z on a Debian kernel, through the pool', async () => {
    const fixture = await createFixtureProject('clock', {
      'vitest.config.ts': umlConfig({ kernel: '7.2', clock: '2038-01-19T03:14:08Z' }),
      'test/clock.test.ts': `import { execFileSync } from 'node:child_process'
import { expect, it } from 'vitest'

it('sees 2038 from date and from Node', () => {
  const date = execFileSync('date', ['-u', '+%Y-%m-%dT%H:%M:%S %s']).toString().trim()
  console.log('GUEST DATE ' + date)
  // Set as the guest was leased: the worker's start since then is seconds (minutes on a busy host).
  expect(date).toMatch(/^2038-01-19T03:[1-5]\\d:\\d\\d (\\d+)$/)
  // Past the signed 32-bit time_t.
  expect(Number(date.split(' ')[1])).toBeGreaterThanOrEqual(2 ** 31)
  expect(new Date().toISOString().startsWith('2038-01-19T03:')).toBe(true)
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode, run.output).toBe(0)
      expect(run.output).toContain('GUEST DATE 2038-01-19T03:')
    } finally {
      await fixture.remove()
    }
  })

  it('takes --clock on the CLI, with a ptrace kernel and with virtual time', async () => {
    const ptrace = await runCli([
      'run',
      '--kernel',
      '6.1',
      '--clock',
      '2038-01-19T03:14:08Z',
      '--',
      'date',
      '-u',
      '+%Y-%m-%dT%H',
    ])
    expect(ptrace.stdout.trim()).toBe('2038-01-19T03')
    const virtual = await runCli([
      'run',
      '--kernel',
      'custom-7.2',
      '--time',
      'virtual',
      '--clock',
      '2001-02-03T04:05:06Z',
      '--',
      'date',
      '-u',
      '+%Y-%m-%d',
    ])
    expect(virtual.stdout.trim()).toBe('2001-02-03')
    const bad = await runCli(['run', '--clock', 'tomorrow', '--', 'true'])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain('clock: takes a date such as 2038-01-19T03:14:08Z')
  })
})
