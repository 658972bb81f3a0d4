import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { getCacheDir } from 'vitest-pool-uml/api'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { runCli } from '../helpers/run-cli.js'
import { runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

/** apt on the frozen mirror snapshot: see docs/findings.md. */
const APT = 'apt-get -o Acquire::Check-Valid-Until=false'

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

it('builds a project image with extra packages, derives another by a setup script with a network once, and reuses it', async () => {
  const fixture = await createFixtureProject('project-images', {
    'vitest.config.ts': umlConfig({
      image: 'e2e-tools',
      images: {
        'e2e-jq': { suite: 'bookworm', packages: ['jq'] },
        'e2e-tools': {
          from: 'e2e-jq',
          // apt from the Debian mirror: the setup script's guest has the network it asks for.
          setup: `date +%s%N > /etc/built-at\nuseradd -m builder\n${APT} update -q\n${APT} install -y -q hello`,
          network: true,
        },
      },
    }),
    'test/tools.test.ts': `import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'

it('has what the image recipe put in', () => {
  expect(execFileSync('jq', ['-n', '1 + 1'], { encoding: 'utf8' }).trim()).toBe('2')
  expect(execFileSync('hello', { encoding: 'utf8' })).toBe('Hello, world!\\n')
  expect(execFileSync('id', ['-u', 'builder'], { encoding: 'utf8' }).trim()).toMatch(/^\\d+$/)
  expect(process.env.VITEST_UML_IMAGE).toBe('e2e-tools')
  console.log('built at ' + readFileSync('/etc/built-at', 'utf8').trim())
})
`,
  })
  try {
    const first = await runVitest(fixture.root, ['run', '--pool=uml'])
    expect(first.exitCode, first.output).toBe(0)
    const builtAt = /built at (\d+)/.exec(first.output)?.[1]
    expect(builtAt).toBeDefined()
    const second = await runVitest(fixture.root, ['run', '--pool=uml'])
    expect(second.exitCode, second.output).toBe(0)
    // The setup ran once: the second run's guests boot the image the first run made.
    expect(second.output).toContain(`built at ${builtAt}`)
    expect(await readdir(join(getCacheDir(), 'images', 'e2e-tools'))).toHaveLength(1)
  } finally {
    await fixture.remove()
    for (const name of ['e2e-tools', 'e2e-jq']) await runCli(['images', 'rm', name])
  }
  // An image bootstrapped from Debian's mirror, then apt-get in the setup guest: about 2 minutes quiet.
}, 420_000)

it('reports a failing setup script with its output', async () => {
  const fixture = await createFixtureProject('failing-setup', {
    'vitest.config.ts': umlConfig({
      image: 'e2e-broken',
      images: { 'e2e-broken': { from: 'debian-trixie', setup: 'echo about to fail\nfalse' } },
    }),
    'test/never.test.ts': `import { it } from 'vitest'
it('never runs', () => {})
`,
  })
  try {
    const run = await runVitest(fixture.root, ['run', '--pool=uml'])
    expect(run.exitCode).not.toBe(0)
    expect(run.output).toContain('The setup script for image e2e-broken failed in the guest (exit status 1)')
    expect(run.output).toContain('about to fail')
    const entries = await readdir(join(getCacheDir(), 'images')).catch(() => [])
    expect(entries).not.toContain('e2e-broken')
  } finally {
    await fixture.remove()
  }
})
