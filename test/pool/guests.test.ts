import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { runVitest } from '../helpers/run-vitest.js'
import { listUmlProcesses } from '../helpers/uml-processes.js'

afterEach(async () => {
  expect(await listUmlProcesses()).toEqual([])
})

/** Each file leaves a marker as root and reports how many markers it can see. */
const markerFile = (name: string) => `import { readdirSync, writeFileSync } from 'node:fs'
import { it } from 'vitest'

it('leaves a marker', () => {
  writeFileSync('/etc/vitest-uml-marker-${name}', 'x')
  const seen = readdirSync('/etc').filter((entry) => entry.startsWith('vitest-uml-marker-'))
  console.log('markers seen: ' + seen.length)
})
`

describe('guests under the pool', () => {
  it('gives every file a pristine disk by default, and shares one guest with isolate: false', async () => {
    const fixture = await createFixtureProject('isolation', {
      'vitest.config.ts': umlConfig({}, { maxWorkers: 1 }),
      'test/a.test.ts': markerFile('a'),
      'test/b.test.ts': markerFile('b'),
      'test/c.test.ts': markerFile('c'),
    })
    try {
      const isolated = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(isolated.exitCode).toBe(0)
      expect(isolated.output.match(/markers seen: 1/g)).toHaveLength(3)
      const shared = await runVitest(fixture.root, ['run', '--pool=uml', '--no-isolate'])
      expect(shared.exitCode).toBe(0)
      for (const count of [1, 2, 3]) expect(shared.output).toContain(`markers seen: ${count}`)
      // Root in the guests wrote under /etc; the host's /etc is untouched.
      for (const name of ['a', 'b', 'c']) expect(existsSync(`/etc/vitest-uml-marker-${name}`)).toBe(false)
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
      expect(first.exitCode).toBe(0)
      expect(first.output).toMatch(/Snapshots\s+2 written/)
      const snapFile = join(fixture.root, 'test/__snapshots__/snap.test.ts.snap')
      expect(await readFile(snapFile, 'utf8')).toContain('"kernel": "7.2"')
      expect(await readFile(join(fixture.root, 'test/snap.test.ts'), 'utf8')).toContain('toMatchInlineSnapshot(`0`)')

      const second = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(second.exitCode).toBe(0)
      expect(second.output).not.toContain('written')

      // The guest reads the snapshot the host holds now, not a stale copy.
      await writeFile(snapFile, (await readFile(snapFile, 'utf8')).replace('"7.2"', '"9.9"'))
      const mismatch = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(mismatch.exitCode).toBe(1)
      expect(mismatch.output).toContain('Snapshot `matches a file snapshot 1` mismatched')
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
      expect(run.exitCode).toBe(1)
      expect(run.output).toMatch(/Test Files\s+1 failed \| 2 passed \(3\)/)
      expect(run.output).toContain('UML_GUEST_PANIC')
      expect(run.output).toContain('Kernel panic - not syncing: sysrq triggered crash')
      expect(run.output).toContain('test/panic.test.ts')
      expect(run.output).toMatch(/✓ test\/fine\.test\.ts/)
      expect(run.output).toMatch(/✓ test\/also-fine\.test\.ts/)
    } finally {
      await fixture.remove()
    }
  })

  it('fails a file that hangs past fileTimeout, or runs its guest out of memory, and runs the rest', async () => {
    const fixture = await createFixtureProject('hang-oom', {
      'vitest.config.ts': umlConfig({ fileTimeout: 8000, memory: 256 }, { maxWorkers: 2 }),
      'test/fine.test.ts': `import { expect, it } from 'vitest'
it('passes', () => expect(1).toBe(1))
`,
      'test/hang.test.ts': `import { it } from 'vitest'
it('never yields', () => {
  for (;;) {}
})
`,
      'test/oom.test.ts': `import { it } from 'vitest'
it('allocates without end', () => {
  const chunks: Buffer[] = []
  for (;;) chunks.push(Buffer.alloc(16 * 1024 * 1024, 1))
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode).toBe(1)
      expect(run.output).toMatch(/Test Files\s+2 failed \| 1 passed \(3\)/)
      expect(run.output).toContain('[UML_GUEST_HUNG] A test file ran longer than fileTimeout (8000 ms)')
      expect(run.output).toContain('[UML_GUEST_OUT_OF_MEMORY] The guest ran out of memory')
      expect(run.output).toMatch(/Out of memory|oom-kill/)
    } finally {
      await fixture.remove()
    }
  })

  it('tells a test what changed on the guest disk since boot', async () => {
    const fixture = await createFixtureProject('disk-changes', {
      'vitest.config.ts': umlConfig(),
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
