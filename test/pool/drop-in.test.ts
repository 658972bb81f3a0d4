import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { runVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

/** Where Vitest and Vite on the host keep their caches (results, bundled configs). */
const HOST_CACHES = ['node_modules/.vite', 'node_modules/.vite-temp']

/** Every file under a directory, but the host's caches, with its mode and a hash of its content. */
async function treeState(root: string): Promise<Record<string, string>> {
  const state: Record<string, string> = {}
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (HOST_CACHES.includes(relative(root, path))) continue
      const info = await stat(path)
      const content = entry.isFile()
        ? createHash('sha256')
            .update(await readFile(path))
            .digest('hex')
        : ''
      state[relative(root, path)] = `${info.mode.toString(8)} ${content}`
      if (entry.isDirectory()) await walk(path)
    }
  }
  await walk(root)
  return state
}

/** Writes into the project tree the way suites do: new files, changed ones, removed ones. */
const WRITES_TEST = `import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { release } from 'node:os'
import { expect, it } from 'vitest'

// Kernel 5.10's hostfs cannot serve overlayfs: the project stays read-only there (see the README).
const copyOnWrite = !release().startsWith('5.10.')

it('writes, changes and removes files in the project tree', () => {
  if (!copyOnWrite) {
    expect(() => writeFileSync('data/existing.txt', 'x')).toThrow(/EROFS/)
    return
  }
  mkdirSync('test/tmp/nested', { recursive: true })
  writeFileSync('test/tmp/nested/out.json', '{"ok":true}')
  writeFileSync('.env', 'SECRET=guest\\n')
  writeFileSync('data/existing.txt', 'changed in the guest')
  rmSync('data/removed.txt')
  expect(JSON.parse(readFileSync('test/tmp/nested/out.json', 'utf8'))).toEqual({ ok: true })
  expect(readFileSync('.env', 'utf8')).toBe('SECRET=guest\\n')
  expect(readFileSync('data/existing.txt', 'utf8')).toBe('changed in the guest')
  expect(existsSync('data/removed.txt')).toBe(false)
  // A child process sees the same view of the project.
  expect(execFileSync('cat', ['data/existing.txt'], { encoding: 'utf8' })).toBe('changed in the guest')
})

it.runIf(copyOnWrite)('writes into node_modules too', () => {
  writeFileSync('node_modules/.vitest-uml-cache', 'x')
  expect(readFileSync('node_modules/.vitest-uml-cache', 'utf8')).toBe('x')
})
`

/** A local HTTP server, fetched over every loopback name. */
const LOOPBACK_TEST = `import { createServer } from 'node:http'
import { lookup } from 'node:dns/promises'
import { hostname } from 'node:os'
import { expect, it } from 'vitest'

it.for(['127.0.0.1', '[::1]', 'localhost'])('serves and fetches over %s', async (host) => {
  const server = createServer((request, response) => response.end('hello ' + request.url))
  await new Promise<void>((resolve) => server.listen(0, '::', resolve))
  try {
    const { port } = server.address() as { port: number }
    const response = await fetch('http://' + host + ':' + port + '/x')
    expect(await response.text()).toBe('hello /x')
  } finally {
    server.close()
  }
})

it('resolves localhost over IPv4 and IPv6, and its own host name', async () => {
  const addresses = (await lookup('localhost', { all: true })).map((entry) => entry.address).sort()
  expect(addresses).toEqual(['127.0.0.1', '::1'])
  expect(hostname()).toBe('vitest-uml')
  expect((await lookup(hostname())).address).toBe('127.0.1.1')
})
`

describe('a guest looks like a plain Linux machine to a test', () => {
  it('lets tests write anywhere in the project, copy-on-write, on every kernel; the host tree stays as it was', async () => {
    const fixture = await createFixtureProject('cow-project', {
      // A guest's first fetch loads undici: seconds on a busy machine with four guests booting.
      'vitest.config.ts': umlConfig({ matrix: { kernel: ['5.10', '6.1', '6.12', '7.2'] } }, { testTimeout: 60_000 }),
      'test/writes.test.ts': WRITES_TEST,
      'test/loopback.test.ts': LOOPBACK_TEST,
      'data/existing.txt': 'from the host',
      'data/removed.txt': 'from the host',
      'node_modules/.keep': '',
    })
    try {
      const before = await treeState(fixture.root)
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      // 5.10 skips the node_modules write: 23 passed, 1 skipped.
      expect(run.report, run.output).toMatchObject({
        numTotalTests: 24,
        numPassedTests: 23,
        numFailedTests: 0,
        numPendingTests: 1,
      })
      expect(run.exitCode).toBe(0)
      expect(await treeState(fixture.root)).toEqual(before)
    } finally {
      await fixture.remove()
    }
  })

  it('names the option when a test writes into a read-only share, and a writable one takes the write to the host', async () => {
    const readOnly = await mkdtemp(join(tmpdir(), 'vitest-uml-ro-share-'))
    const writable = await mkdtemp(join(tmpdir(), 'vitest-uml-rw-share-'))
    const fixture = await createFixtureProject('read-only-share', {
      'vitest.config.ts': umlConfig({ shares: [{ path: readOnly }, { path: writable, writable: true }] }),
      'test/shares.test.ts': `import { writeFileSync } from 'node:fs'
import { it } from 'vitest'

it('writes into the read-only share', () => {
  writeFileSync(${JSON.stringify(join(readOnly, 'out.txt'))}, 'x')
})

it('writes into the writable share', () => {
  writeFileSync(${JSON.stringify(join(writable, 'out.txt'))}, 'from the guest')
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.exitCode).toBe(1)
      const [file] = run.report?.testResults ?? []
      const results = Object.fromEntries((file?.assertionResults ?? []).map((test) => [test.title, test] as const))
      expect(results['writes into the writable share']?.status).toBe('passed')
      expect(results['writes into the read-only share']?.status).toBe('failed')
      expect(results['writes into the read-only share']?.failureMessages.join('\n')).toMatch(
        /EROFS[\s\S]*vitest-uml: this path is read-only in the guest\. It is in a share without `writable: true`/,
      )
      expect(await readFile(join(writable, 'out.txt'), 'utf8')).toBe('from the guest')
      await expect(stat(join(readOnly, 'out.txt'))).rejects.toThrow(/ENOENT/)
    } finally {
      await fixture.remove()
      await rm(readOnly, { recursive: true, force: true })
      await rm(writable, { recursive: true, force: true })
    }
  })

  it('has a system trust store: an HTTPS client that trusts only it connects to a local server', async () => {
    const fixture = await createFixtureProject('https-client', {
      'vitest.config.ts': umlConfig(),
      'test/https.test.ts': `import { execFile, execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:https'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

it('carries Debian\\'s CA certificates', () => {
  const bundle = readFileSync('/etc/ssl/certs/ca-certificates.crt', 'utf8')
  expect(bundle.match(/BEGIN CERTIFICATE/g)!.length).toBeGreaterThan(100)
})

it('connects with the system store to a server whose CA was added to it', { timeout: 120_000 }, async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost', '-keyout', '/tmp/key.pem', '-out', '/usr/local/share/ca-certificates/local.crt'], { stdio: 'ignore' })
  execFileSync('update-ca-certificates', { stdio: 'ignore' })
  const server = createServer({ key: readFileSync('/tmp/key.pem'), cert: readFileSync('/usr/local/share/ca-certificates/local.crt') },
    (request, response) => response.end('secure'))
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve))
  try {
    const { port } = server.address() as { port: number }
    writeFileSync('/tmp/client.cjs', "require('https').get('https://localhost:' + process.argv[2], (r) => r.pipe(process.stdout))")
    // --use-openssl-ca: trust the system store instead of Node's bundled one, as non-Node TLS clients do.
    const { stdout } = await promisify(execFile)(process.execPath, ['--use-openssl-ca', '/tmp/client.cjs', String(port)])
    expect(stdout).toBe('secure')
  } finally {
    server.close()
  }
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.report, run.output).toMatchObject({ numTotalTests: 2, numPassedTests: 2 })
      expect(run.exitCode).toBe(0)
    } finally {
      await fixture.remove()
    }
  })

  it('gives a test the heap of a 1 GiB machine: 300 MiB of objects held', async () => {
    // Node sizes its heap by the machine's memory: with 512 MiB a guest's worker got 259 MiB.
    const fixture = await createFixtureProject('heap', {
      'vitest.config.ts': umlConfig({}, { testTimeout: 120_000 }),
      'test/heap.test.ts': `import { getHeapStatistics } from 'node:v8'
import { expect, it } from 'vitest'

it('holds 300 MiB of objects', () => {
  const chunks = []
  for (let i = 0; i < 300; i++) chunks.push(new Array(128 * 1024).fill(i + 0.5))
  expect(chunks.length).toBe(300)
  expect(getHeapStatistics().heap_size_limit).toBeGreaterThanOrEqual(500 * 1024 * 1024)
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.report, run.output).toMatchObject({ numTotalTests: 1, numPassedTests: 1 })
    } finally {
      await fixture.remove()
    }
  })

  it('reports the tests of a file whose beforeAll failed as skipped, as forks does', async () => {
    // The hook blocks past the runner's 100 ms batching of task updates, so the file's failed state
    // reaches the host before its tests' skips do (concurrently's smoke tests do so with an exec).
    const fixture = await createFixtureProject('failed-before-all', {
      'vitest.config.ts': umlConfig(),
      'test/setup.test.ts': `import { beforeAll, it } from 'vitest'
beforeAll(() => {
  const end = Date.now() + 300
  while (Date.now() < end);
  throw new Error('setup failed')
})
it.each(['a', 'b', 'c'])('%s', () => {})
`,
    })
    try {
      for (const pool of ['forks', 'uml']) {
        const { report, output } = await runVitest(fixture.root, ['run', `--pool=${pool}`])
        const [file] = report?.testResults ?? []
        expect(file?.message, output).toContain('setup failed')
        expect(file?.assertionResults.map((test) => test.status)).toEqual(['skipped', 'skipped', 'skipped'])
      }
    } finally {
      await fixture.remove()
    }
  })

  it('runs the inline projects of a root config with uml() in guests, and says where uml() must go for a project of its own file', async () => {
    const inGuest = `import { expect, it } from 'vitest'
it('runs in a guest', () => expect(process.env.VITEST_UML_KERNEL).toBe('7.2'))
`
    const fixture = await createFixtureProject('projects', {
      'vitest.config.ts': `import { uml } from 'vitest-pool-uml'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [uml()],
  test: {
    projects: [
      { test: { name: 'own', include: ['own/*.test.ts'] } },
      { extends: true, test: { name: 'extending', include: ['extending/*.test.ts'] } },
      ...(process.env.WITH_FILE_PROJECT ? ['file-project/vitest.config.ts'] : []),
    ],
  },
})
`,
      'own/a.test.ts': inGuest,
      'extending/a.test.ts': inGuest,
      'file-project/vitest.config.ts': `import { defineConfig } from 'vitest/config'
export default defineConfig({ test: { name: 'file-project' } })
`,
      'file-project/a.test.ts': inGuest,
    })
    try {
      const run = await runVitest(fixture.root, ['run', '--pool=uml'])
      expect(run.report, run.output).toMatchObject({ numTotalTests: 2, numPassedTests: 2 })
      expect(run.exitCode).toBe(0)
      const unreached = await runVitest(fixture.root, ['run', '--pool=uml'], { WITH_FILE_PROJECT: '1' })
      expect(unreached.exitCode).not.toBe(0)
      expect(unreached.output).toContain(
        `The uml pool is asked for in project "file-project" (${fixture.root}/file-project/vitest.config.ts)`,
      )
      expect(unreached.output).toContain("code: 'UML_INVALID_OPTIONS'")
    } finally {
      await fixture.remove()
    }
  })
})
