import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { execa } from 'execa'
import { afterEach, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { vitestBin } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

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
  const vitest = execa(process.execPath, [vitestBin(fixture.root), 'watch', '--pool=uml'], {
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
  expect(await waitForNoUmlProcesses()).toEqual([])
})
