import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { fileResults, runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

/**
 * Each file first reports the traces of other files it can see, then leaves its own as root: a
 * file in /etc, a user, a process, a mount, a file in /tmp and one in the project, a hostname. It
 * also reports its kernel's boot id, to tell whether files shared a kernel.
 */
const tracesFile = (name: string) => `import { execSync, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { it } from 'vitest'

const sh = (command: string) => execSync(command, { encoding: 'utf8' })

it('sees no trace of another file, then leaves its own', () => {
  const seen: string[] = []
  if (readdirSync('/etc').some((entry) => entry.startsWith('trace-'))) seen.push('disk')
  if (/^trace/m.test(readFileSync('/etc/passwd', 'utf8'))) seen.push('user')
  const commands = readdirSync('/proc').filter((pid) => /^\\d+$/.test(pid)).map((pid) => {
    try { return readFileSync('/proc/' + pid + '/cmdline', 'utf8') } catch { return '' }
  })
  if (commands.some((command) => command.startsWith('sleep\\u0000100'))) seen.push('process')
  if (readFileSync('/proc/mounts', 'utf8').includes('trace-')) seen.push('mount')
  if (readdirSync('/tmp').some((entry) => entry.startsWith('trace-'))) seen.push('tmp')
  if (readdirSync('.').some((entry) => entry.startsWith('trace-'))) seen.push('project')
  if (hostname().startsWith('trace-')) seen.push('hostname')
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  console.log('traces seen: ' + JSON.stringify(seen) + ' boot ' + bootId)

  writeFileSync('/etc/trace-${name}', 'x')
  sh('useradd trace${name}')
  spawn('sleep', ['100${name.charCodeAt(0)}'], { detached: true, stdio: 'ignore' }).unref()
  sh('mkdir -p /mnt/${name} && mount -t tmpfs trace-${name} /mnt/${name}')
  writeFileSync('/tmp/trace-${name}', 'x')
  writeFileSync('trace-${name}', 'x')
  writeFileSync('/proc/sys/kernel/hostname', 'trace-${name}')
  if (!existsSync('/etc/trace-${name}')) throw new Error('no trace left')
})
`

/** What each file of a run saw of the others, and how many kernels the run's files had. */
function tracesOf(output: string): { seen: string[][]; kernels: number } {
  const lines = [...output.matchAll(/traces seen: (\[.*?\]) boot (\S+)/g)]
  return {
    seen: lines.map((line) => JSON.parse(line[1] as string) as string[]).sort((a, b) => a.length - b.length),
    kernels: new Set(lines.map((line) => line[2])).size,
  }
}

describe('guests under the pool', () => {
  it.each([
    // One warm guest: each file's session follows the last one's in the same kernel.
    ['a session of a booted guest per file (the default)', { warmGuests: 1 }, 1],
    ['a fresh kernel per file', { warmGuests: 1, freshKernel: true }, 3],
  ])('gives every file a pristine system: %s', async (_, options, kernels) => {
    const fixture = await createFixtureProject('isolation', {
      'vitest.config.ts': umlConfig(options, { maxWorkers: 1 }),
      'test/a.test.ts': tracesFile('a'),
      'test/b.test.ts': tracesFile('b'),
      'test/c.test.ts': tracesFile('c'),
    })
    try {
      const isolated = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(isolated.exitCode, isolated.output).toBe(0)
      expect(isolated.report?.numPassedTests).toBe(3)
      expect(tracesOf(isolated.output)).toEqual({ seen: [[], [], []], kernels })
      // Root in the guests wrote under /etc; the host's /etc and the project are untouched.
      for (const name of ['a', 'b', 'c']) {
        expect(existsSync(`/etc/trace-${name}`)).toBe(false)
        expect(existsSync(join(fixture.root, `trace-${name}`))).toBe(false)
      }
    } finally {
      await fixture.remove()
    }
  })

  it('shares one guest, and every trace, between the files of a run with isolate: false, and boots no spare', async () => {
    const fixture = await createFixtureProject('shared', {
      'vitest.config.ts': umlConfig({}, { maxWorkers: 1 }),
      'test/a.test.ts': tracesFile('a'),
      'test/b.test.ts': tracesFile('b'),
    })
    try {
      const timings = join(fixture.root, 'timings.jsonl')
      const shared = await runVitest(fixture.root, ['run', '--pool=uml', '--no-isolate'], {
        VITEST_UML_TIMINGS: timings,
      })
      expect(shared.exitCode, shared.output).toBe(0)
      // The checks can fail: the second file sees everything the first left.
      const all = ['disk', 'user', 'process', 'mount', 'tmp', 'project', 'hostname']
      expect(tracesOf(shared.output)).toEqual({ seen: [[], all], kernels: 1 })
      // The one worker keeps its guest for both files: a spare guest would only slow its boot.
      const boots = (await readFile(timings, 'utf8')).split('\n').filter((line) => line.includes('"phase":"boot"'))
      expect(boots).toHaveLength(1)
    } finally {
      await fixture.remove()
    }
  })

  it('writes snapshot files and inline snapshots on the host, and matches them on the next run', async () => {
    const fixture = await createFixtureProject('snapshots', {
      'vitest.config.ts': umlConfig(),
      'test/snap.test.ts': `import { release } from 'node:os'
import { expect, it } from 'vitest'

it('matches a file snapshot', () => {
  expect({ kernel: release().split('.').slice(0, 2).join('.') }).toMatchSnapshot()
})

it('matches an inline snapshot', () => {
  expect(process.getuid?.()).toMatchInlineSnapshot()
})
`,
    })
    try {
      const first = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(first.exitCode, first.output).toBe(0)
      expect(first.report?.snapshot).toMatchObject({ added: 2, matched: 0 })
      const snapFile = join(fixture.root, 'test/__snapshots__/snap.test.ts.snap')
      expect(await readFile(snapFile, 'utf8')).toContain('"kernel": "7.2"')
      expect(await readFile(join(fixture.root, 'test/snap.test.ts'), 'utf8')).toContain('toMatchInlineSnapshot(`0`)')

      const second = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(second.exitCode, second.output).toBe(0)
      expect(second.report?.snapshot).toMatchObject({ added: 0, matched: 2 })

      // The guest reads the snapshot the host holds now, not a stale copy.
      await writeFile(snapFile, (await readFile(snapFile, 'utf8')).replace('"7.2"', '"9.9"'))
      const mismatch = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(mismatch.exitCode).toBe(1)
      expect(mismatch.report?.snapshot).toMatchObject({ unmatched: 1, matched: 1 })
      const [fileSnapshot] = fileResults(mismatch, fixture.root)['test/snap.test.ts']?.assertionResults ?? []
      expect(fileSnapshot).toMatchObject({ title: 'matches a file snapshot', status: 'failed' })
      expect(fileSnapshot?.failureMessages.join('\n')).toContain('Snapshot `matches a file snapshot 1` mismatched')
    } finally {
      await fixture.remove()
    }
  })

  it.each([
    ['each file on its own guest', []],
    // One runner serves file after file; the panicking file is the largest, so it runs first.
    ['one guest after another with --no-isolate', ['--no-isolate', '--maxWorkers=1']],
  ])('fails only the file whose guest panics, with the console as evidence: %s', async (_, flags) => {
    const fixture = await createFixtureProject('panic', {
      'vitest.config.ts': umlConfig({}, { maxWorkers: 2 }),
      'test/fine.test.ts': `import { expect, it } from 'vitest'
it('passes', () => expect(1).toBe(1))
`,
      'test/also-fine.test.ts': `import { expect, it } from 'vitest'
it('passes too', () => expect(2).toBe(2))
`,
      'test/panic.test.ts': `import { execSync } from 'node:child_process'
import { it } from 'vitest'
it('crashes its kernel', () => {
  execSync('echo c > /proc/sysrq-trigger')
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml', ...flags])
      expect(run.exitCode, run.output).toBe(1)
      const files = fileResults(run, fixture.root)
      expect(files['test/panic.test.ts']?.status).toBe('failed')
      expect(files['test/panic.test.ts']?.message).toContain('[UML_GUEST_PANIC]')
      expect(files['test/panic.test.ts']?.message).toContain('Kernel panic - not syncing: sysrq triggered crash')
      expect(files['test/fine.test.ts']?.status).toBe('passed')
      expect(files['test/also-fine.test.ts']?.status).toBe('passed')
    } finally {
      await fixture.remove()
    }
  })

  it("fails a file silent past fileTimeout's default (saying when its memory was nearly full), or out of memory, and runs the rest, a slow quiet test too", async () => {
    const fixture = await createFixtureProject('hang-oom', {
      // Short timeouts keep the default fileTimeout (six times the longest) at 18 s instead of 60 s.
      // A small guest leaves the out-of-memory file little to fill: each first touch of a page is a
      // round trip between host processes, which slows 4x and more while other guests keep the CPUs
      // busy (a 256 MiB guest once took over 120 s to run out in CI).
      'vitest.config.ts': umlConfig({ memory: 160 }, { maxWorkers: 2, testTimeout: 3000, hookTimeout: 3000 }),
      'test/fine.test.ts': `import { expect, it } from 'vitest'
it('passes', () => expect(1).toBe(1))
`,
      // Silent for longer than the project's default (18 s), within what its own timeout allows (6 x 30 s).
      'test/slow.test.ts': `import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { it } from 'vitest'
it('waits quietly for a child process', async () => {
  await promisify(execFile)('sleep', ['20'])
}, 30_000)
`,
      'test/hang.test.ts': `import { it } from 'vitest'
it('never yields', () => {
  for (;;) {}
})
`,
      // Stops short of the kernel's out-of-memory kill (which came at about 5 MiB available).
      'test/full.test.ts': `import { readFileSync } from 'node:fs'
import { it } from 'vitest'
const availableMiB = () => Number(/^MemAvailable:\\s+(\\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) / 1024
it('fills its guest, then never yields', () => {
  const chunks: Buffer[] = []
  while (availableMiB() > 14) chunks.push(Buffer.alloc(2 * 1024 * 1024, 1))
  // A word once full: the silence counted from here, however long filling took.
  process.stderr.write('full\\n')
  for (;;) {}
})
`,
      // Filling the guest takes seconds of page faults, more on a busy machine: its own timeout
      // keeps it clear of the silence limit that the hanging file tests.
      'test/oom.test.ts': `import { it } from 'vitest'
it('allocates without end', () => {
  const chunks: Buffer[] = []
  for (;;) chunks.push(Buffer.alloc(16 * 1024 * 1024, 1))
}, 20_000)
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode, run.output).toBe(1)
      const files = fileResults(run, fixture.root)
      expect(files['test/fine.test.ts']?.status).toBe('passed')
      expect(files['test/slow.test.ts']?.status).toBe('passed')
      // testTimeout and hookTimeout 3 s, so 6 x 3 s of silence.
      expect(files['test/hang.test.ts']).toMatchObject({
        status: 'failed',
        message: expect.stringContaining(
          "[UML_GUEST_HUNG] A test file's worker sent and printed nothing for 18000 ms (fileTimeout's default",
        ),
      })
      expect(files['test/hang.test.ts']?.message).not.toContain('MiB of memory left')
      // The same silence, in a guest whose memory is nearly full, says so.
      expect(files['test/full.test.ts']?.message).toContain(
        "[UML_GUEST_HUNG] A test file's worker sent and printed nothing",
      )
      expect(files['test/full.test.ts']?.message).toMatch(
        /Its guest had only \d+ MiB of memory left \(MemAvailable\): .* Raise `memory`/,
      )
      expect(files['test/oom.test.ts']).toMatchObject({
        status: 'failed',
        message: expect.stringContaining('[UML_GUEST_OUT_OF_MEMORY] The guest ran out of memory'),
      })
      // The guest kernel's own words, from the console tail.
      expect(files['test/oom.test.ts']?.message).toMatch(/Out of memory|oom-kill/)
    } finally {
      await fixture.remove()
    }
  })

  it('tells a test what changed on the guest disk since boot', async () => {
    const fixture = await createFixtureProject('disk-changes', {
      // Comparing the whole disk takes seconds on a busy machine.
      'vitest.config.ts': umlConfig({}, { testTimeout: 60_000 }),
      'test/install.test.ts': `import { execSync } from 'node:child_process'
import { expect, it } from 'vitest'
import { diskChanges } from 'vitest-pool-uml/disk'

it('sees what root changed', () => {
  execSync('useradd -m carol && echo x > /etc/added.conf && rm /etc/motd && chmod 600 /etc/hostname')
  const changes = diskChanges({ ignore: ['/var/log', '/var/cache'] })
  expect(changes.added).toEqual(expect.arrayContaining(['/etc/added.conf', '/home/carol']))
  expect(changes.changed).toEqual(expect.arrayContaining(['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/hostname']))
  expect(changes.changed).not.toContain('/etc/os-release')
  expect(changes.removed).toEqual(['/etc/motd'])
  console.log('changes ' + JSON.stringify(changes))
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode, run.output).toBe(0)
      expect(run.output).toContain('"removed":["/etc/motd"]')
    } finally {
      await fixture.remove()
    }
  })

  it('rejects a misspelled pool option, naming the config file and the fix', async () => {
    const fixture = await createFixtureProject('bad-option', {
      'vitest.config.ts': umlConfig({ kernal: '6.1' }),
      'test/never.test.ts': `import { it } from 'vitest'
it('never runs', () => {})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode).not.toBe(0)
      expect(run.output).toContain(`Invalid vitest-pool-uml options in ${join(fixture.root, 'vitest.config.ts')}`)
      expect(run.output).toContain('unknown option "kernal" (did you mean "kernel"?)')
    } finally {
      await fixture.remove()
    }
  })
})
