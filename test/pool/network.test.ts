import { existsSync, realpathSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { runVitest, startVitest } from '../helpers/run-vitest.js'
import { useScratchDir } from '../helpers/scratch-dir.js'
import { listUmlProcesses, waitForNoUmlProcesses } from '../helpers/uml-processes.js'
import { waitFor } from '../helpers/wait-for.js'

const scratch = useScratchDir('vitest-uml-network-')

/**
 * npm's own CLI, from the npm package in this repository's node_modules, which the pool shares
 * into guests (they have Node but no npm). In a project of your own, `npm` in devDependencies.
 */
const NPM_CLI = join(
  realpathSync(dirname(createRequire(import.meta.url).resolve('npm/package.json'))),
  'bin/npm-cli.js',
)

/** A package with a bin and a postinstall script, packed by `npm pack`: the tarball's bytes. */
async function packGreet(): Promise<Buffer> {
  const dir = join(scratch(), 'greet')
  await mkdir(join(dir, 'bin'), { recursive: true })
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'greet',
      version: '1.0.0',
      bin: { greet: 'bin/greet.js' },
      scripts: { postinstall: "node -e \"require('fs').writeFileSync('postinstall-ran', process.arch)\"" },
    }),
  )
  await writeFile(join(dir, 'bin/greet.js'), '#!/usr/bin/env node\nconsole.log("hello from greet")\n')
  const { stdout } = await execa(process.execPath, [NPM_CLI, 'pack', '--json', '--pack-destination', scratch()], {
    cwd: dir,
    env: { npm_config_cache: join(scratch(), 'npm-cache') },
  })
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }]
  return readFile(join(scratch(), filename))
}

describe('the network option in the pool', () => {
  let server: Server

  beforeAll(async () => {
    const tarball = await packGreet()
    server = createServer((req, res) => {
      if (req.url === '/greet-1.0.0.tgz') res.setHeader('content-type', 'application/octet-stream').end(tarball)
      else res.end('served by the host')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })

  afterAll(() => {
    server.close()
  })

  it('gives test files a forwarded host port at host.vitest-uml.internal, and npm installs a tarball served there', async () => {
    const port = (server.address() as AddressInfo).port
    const fixture = await createFixtureProject('network-forward', {
      'vitest.config.ts': umlConfig({ network: { forward: [{ guest: 8080, host: port }] } }),
      'test/fetch.test.ts': `import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'

it('fetches from the host', async () => {
  const response = await fetch('http://host.vitest-uml.internal:8080/')
  expect(await response.text()).toBe('served by the host')
})

it('installs a package from a tarball the host serves, with npm', () => {
  const app = mkdtempSync('/tmp/app-')
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  const url = 'http://host.vitest-uml.internal:8080/greet-1.0.0.tgz'
  execFileSync(process.execPath, [${JSON.stringify(NPM_CLI)}, 'install', '--no-audit', '--no-fund', url], { cwd: app })
  expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).dependencies).toEqual({ greet: url })
  expect(execFileSync(join(app, 'node_modules/.bin/greet'), { encoding: 'utf8' })).toBe('hello from greet\\n')
  expect(readFileSync(join(app, 'node_modules/greet/postinstall-ran'), 'utf8')).toBe('x64')
}, 120_000)
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode, run.output).toBe(0)
      expect(run.report?.numPassedTests).toBe(2)
    } finally {
      await fixture.remove()
    }
  })

  it('leaves no guest and no network helper running when vitest is killed with SIGKILL', async () => {
    const signals = await mkdtemp(join(scratch(), 'signals-'))
    const fixture = await createFixtureProject('network-killed', {
      'vitest.config.ts': umlConfig({ network: true, shares: [{ path: signals, writable: true }] }),
      'test/wait.test.ts': `import { writeFileSync } from 'node:fs'
import { it } from 'vitest'
it('waits', async () => {
  writeFileSync(${JSON.stringify(join(signals, 'started'))}, '')
  await new Promise((resolve) => setTimeout(resolve, 300_000))
}, 600_000)
`,
    })
    try {
      const vitest = startVitest(fixture.root, ['run', '--pool=uml'])
      await waitFor('the file to start', () => existsSync(join(signals, 'started')))
      const running = listUmlProcesses()
      // The guests' kernels, their relays and slirp4netns processes.
      expect(running.some((entry) => entry.includes('slirp4netns'))).toBe(true)
      expect(running.some((entry) => entry.includes('/relay.pl'))).toBe(true)
      vitest.process.kill('SIGKILL')
      expect((await vitest.result).signal).toBe('SIGKILL')
      expect(await waitForNoUmlProcesses(5000)).toEqual([])
    } finally {
      await fixture.remove()
    }
  })
})
