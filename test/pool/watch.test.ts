import { writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { execa } from 'execa'
import { afterEach, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { listUmlProcesses } from '../helpers/uml-processes.js'

afterEach(async () => {
  expect(await listUmlProcesses()).toEqual([])
})

const VITEST_BIN = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')

async function waitFor(read: () => string, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${pattern} in:\n${read()}`)
    await delay(100)
  }
}

it('re-runs a changed file in watch mode, then leaves no guest behind', async () => {
  const testFile = (value: number) => `import { expect, it } from 'vitest'
it('checks the value', () => {
  console.log('value is ${value}')
  expect(${value}).toBeGreaterThan(0)
})
`
  const fixture = await createFixtureProject('watch', {
    'vitest.config.ts': umlConfig(),
    'test/value.test.ts': testFile(1),
  })
  const vitest = execa(process.execPath, [VITEST_BIN, 'watch', '--pool=uml'], {
    cwd: fixture.root,
    reject: false,
    all: true,
    env: { CI: '', NO_COLOR: '1' },
  })
  let output = ''
  vitest.all?.on('data', (data: Buffer) => {
    output += data.toString()
  })
  try {
    await waitFor(() => output, /value is 1[\s\S]*Waiting for file changes/)
    await writeFile(join(fixture.root, 'test/value.test.ts'), testFile(2))
    await waitFor(() => output, /value is 2[\s\S]*Waiting for file changes/)
    expect(output).toMatch(/RERUN\s+test\/value\.test\.ts/)
  } finally {
    vitest.kill('SIGINT')
    await vitest
    await fixture.remove()
  }
  // Give the sandboxes a moment to go with their parent before the afterEach check.
  const deadline = Date.now() + 10_000
  while ((await listUmlProcesses()).length > 0 && Date.now() < deadline) await delay(100)
})
