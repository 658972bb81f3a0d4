import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { WALL_OFF_VARIABLE } from 'vitest-pool-uml/api'
import { runVitest, startVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'
import { waitFor } from '../helpers/wait-for.js'
import { ATTACKS, type Attack, type Control, OVERSIZED_FRAME_MIB } from './attacks.js'
import { createEscapeFixture, type EscapeFixture, unexpectedChanges } from './escape-fixture.js'

/**
 * The RPC wall under attack (docs/security.md): every attempt below is made by a test file in a
 * guest, as root, against a project in a pnpm workspace, locally (update: new), with -u and in
 * CI; none may get anything out of the host or into it. Each attempt is also made where it gets
 * through, on the host with --pool=forks or in a guest with the wall switched off, so each is
 * shown able to detect an escape.
 */
/**
 * Each run's reporters on the command line, as runVitest puts its own there otherwise (which would
 * leave out the reporter that records what the guest's messages did to the host Vitest).
 */
const COMMON_ARGS = [
  '--maxWorkers=1',
  '--coverage.enabled',
  '--reporter=default',
  '--reporter=json',
  '--outputFile.json=report/results.json',
  '--reporter=./wall-reporter.ts',
]

/** Each run of about 45 files (a session each, or one guest for all): slow on a busy 2-core machine. */
const RUN_TIMEOUT_MS = 900_000

const MODES: Array<{ name: string; args: string[]; env: Record<string, string> }> = [
  { name: 'locally (update: new), a session per file', args: ['run'], env: {} },
  { name: 'with -u (update: all), one guest for the run', args: ['run', '-u', '--no-isolate'], env: {} },
  { name: 'in CI (update: none), one guest for the run', args: ['run', '--no-isolate'], env: { CI: 'true' } },
]

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

async function attackRun(
  attacks: Attack[],
  args: string[],
  env: Record<string, string> = {},
): Promise<{ fixture: EscapeFixture; evidence: Awaited<ReturnType<EscapeFixture['evidence']>>; output: string }> {
  const fixture = await createEscapeFixture(attacks)
  const run = await runVitest(fixture.paths.root, [...args, ...COMMON_ARGS], { ...fixture.secrets, ...env })
  return { fixture, evidence: await fixture.evidence(run.output), output: run.output }
}

describe.each(MODES)('no attempt gets through the wall, $name', ({ args, env }) => {
  it(
    `refuses all ${ATTACKS.length} attempts, and the legitimate tests keep working`,
    async () => {
      const { fixture, evidence, output } = await attackRun(ATTACKS, args, env)
      try {
        const escaped = ATTACKS.filter((attack) => attack.escaped(evidence, fixture.paths)).map((attack) => attack.name)
        expect(escaped, output).toEqual([])
        expect(unexpectedChanges(evidence)).toEqual([])
        // The host's own record of the run exists, so no pollution is no pollution, not no record.
        expect(evidence.hostRecorded).toBe(true)
        expect(evidence.pollution).toEqual([])
        // Each attack on the channel fails its own file with the protocol error; the run goes on.
        for (const name of [
          'c01-malformed-frame',
          'c02-huge-length',
          'c03-wrong-shape',
          'c04-oversized-frame',
          'c05-undecodable-ipc',
        ]) {
          const file = evidence.files.get(`test/${name}.test.ts`)
          expect(file?.status, name).toBe('failed')
          expect(file?.message, name).toContain('UML_GUEST_PROTOCOL')
        }
        expect(evidence.statuses?.get('test/z-bystander.test.ts > passes')).toBe('passed')
        if (!env.CI) await expectLegitSnapshots(fixture)
      } finally {
        await fixture.remove()
      }
    },
    RUN_TIMEOUT_MS,
  )
})

/** Snapshots, inline snapshots and file snapshots written as Vitest writes them, through the wall. */
async function expectLegitSnapshots(fixture: EscapeFixture): Promise<void> {
  const test = join(fixture.paths.root, 'test')
  expect(await readFile(join(test, '__snapshots__', 'legit.test.ts.snap'), 'utf8')).toContain(
    'exports[`keeps a snapshot 1`]',
  )
  expect(await readFile(join(test, 'legit.test.ts'), 'utf8')).toContain('toMatchInlineSnapshot(`"inline"`)')
  expect(await readFile(join(test, '__snapshots__', 'legit.txt'), 'utf8')).toBe('a file snapshot\n')
}

describe('each attempt gets through where the wall is not', () => {
  const controls: Array<{ control: Control; attacks: Attack[]; args: string[]; env: Record<string, string> }> = [
    {
      control: 'forks',
      attacks: ATTACKS.filter((attack) => attack.control === 'forks' && !attack.alone),
      args: ['run', '-u', '--pool=forks'],
      env: {},
    },
    {
      control: 'wall-off',
      attacks: ATTACKS.filter((attack) => attack.control === 'wall-off' && !attack.alone),
      args: ['run', '-u'],
      env: { [WALL_OFF_VARIABLE]: '1' },
    },
  ]
  it.each(controls)(
    '$control: every attempt of its group escapes',
    async ({ attacks, args, env }) => {
      const { fixture, evidence, output } = await attackRun(attacks, args, env)
      try {
        const caught = attacks.filter((attack) => !attack.escaped(evidence, fixture.paths)).map((attack) => attack.name)
        expect(caught, output).toEqual([])
      } finally {
        await fixture.remove()
      }
    },
    RUN_TIMEOUT_MS,
  )

  it.each(ATTACKS.filter((attack) => attack.alone))(
    '$control: $name escapes (alone, as it spoils the run)',
    async (attack) => {
      const args = attack.control === 'forks' ? ['run', '--pool=forks'] : ['run']
      const env: Record<string, string> = attack.control === 'forks' ? {} : { [WALL_OFF_VARIABLE]: '1' }
      const { fixture, evidence, output } = await attackRun([attack], args, env)
      try {
        expect(attack.escaped(evidence, fixture.paths), output).toBe(true)
      } finally {
        await fixture.remove()
      }
    },
    RUN_TIMEOUT_MS,
  )
})

it(
  'buffers none of an oversized frame: the host peaks lower by more than the frame than with the wall off',
  async () => {
    const attack = ATTACKS.find(({ name }) => name === 'c04-oversized-frame') as Attack
    const peak = async (env: Record<string, string>) => {
      const { fixture, evidence } = await attackRun([attack], ['run'], env)
      await fixture.remove()
      expect(evidence.maxRssMiB).toBeDefined()
      return evidence.maxRssMiB ?? 0
    }
    const walled = await peak({})
    const open = await peak({ [WALL_OFF_VARIABLE]: '1' })
    expect(open - walled).toBeGreaterThan(OVERSIZED_FRAME_MIB)
  },
  RUN_TIMEOUT_MS,
)

describe('watch mode', () => {
  it(
    'keeps the wall while watching: nothing a guest does changes a watched file but its snapshots',
    async () => {
      const attacks = ATTACKS.filter((attack) =>
        ['f01-raw-literal', 's01-config', 's07-source-module', 'h01-config', 'h05-test-code'].includes(attack.name),
      )
      const fixture = await createEscapeFixture(attacks)
      const { process, result } = startVitest(fixture.paths.root, ['-u', ...COMMON_ARGS], fixture.secrets)
      try {
        await waitFor('the first run to end', async () => (await fixture.evidence('')).statuses !== undefined, 300_000)
        // Give a restart (config changed) or a re-run (a watched file changed) the time to begin.
        await new Promise((resolve) => setTimeout(resolve, 3000))
        process.kill('SIGTERM')
        const { output } = await result
        const evidence = await fixture.evidence(output)
        expect(
          attacks.filter((attack) => attack.escaped(evidence, fixture.paths)).map((attack) => attack.name),
        ).toEqual([])
        expect(unexpectedChanges(evidence)).toEqual([])
        expect(output).not.toMatch(/Restarting due to config changes|Test removed/)
        await expectLegitSnapshots(fixture)
      } finally {
        process.kill('SIGKILL')
        await fixture.remove()
      }
    },
    RUN_TIMEOUT_MS,
  )
})
