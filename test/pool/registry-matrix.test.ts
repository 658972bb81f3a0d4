import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { getCacheDir, removeCacheTree } from 'vitest-pool-uml/api'
import { buildBusyboxRoot } from '../helpers/busybox-rootfs.js'
import { createFixtureProject, type FixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { tarOf, tarOfDirectory, writeOciLayout } from '../helpers/oci-layout.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { runVitest } from '../helpers/run-vitest.js'
import { useScratchDir } from '../helpers/scratch-dir.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'
import { debianRootfsTar, muslLayer } from '../helpers/userland-layers.js'

const scratch = useScratchDir('vitest-uml-registry-matrix-')
let registry: TestRegistry
let fixture: FixtureProject
let env: Record<string, string>
const refs = { busybox: '', musl: '', debian: '', unusable: '' }

const TEST_FILE = `import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { expect, it } from 'vitest'

it('runs the Vitest worker on this userland', () => {
  const image = process.env.VITEST_UML_IMAGE ?? ''
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8').match(/^ID=(.*)$/m)?.[1] : 'none'
  const musl = existsSync('/usr/local/bin/hello-musl') ? execFileSync('/usr/local/bin/hello-musl', { encoding: 'utf8' }).trim() : 'no musl'
  console.log(\`cell \${image.split('/').pop()} uid \${process.getuid()} node \${process.version} os \${osRelease} \${musl}\`)
  expect(execFileSync('sh', ['-c', 'echo shell works'], { encoding: 'utf8' }).trim()).toBe('shell works')
})
`

async function pushImage(repository: string, tag: string, layers: Buffer[]): Promise<string> {
  const layout = join(scratch(), `layout-${repository.replaceAll('/', '-')}`)
  await writeOciLayout(layout, tag, { layers })
  await registry.push(layout, tag, repository)
  return `${registry.host}/${repository}:${tag}`
}

beforeAll(async () => {
  registry = await startRegistry({ auth: 'basic' })
  const busybox = await tarOfDirectory(await buildBusyboxRoot(scratch()))
  refs.busybox = await pushImage('vitest/busybox', '1', [busybox])
  refs.musl = await pushImage('vitest/musl', '1', [busybox, await muslLayer(scratch())])
  refs.debian = await pushImage('vitest/debian', 'bookworm', [await debianRootfsTar(scratch(), 'bookworm')])
  // busybox without the mount applet, which the guest's init runs.
  const noMount = await tarOf(['bin', 'sbin', 'usr/bin', 'usr/sbin'].map((dir) => ({ name: `${dir}/.wh.mount` })))
  refs.unusable = await pushImage('vitest/no-mount', '1', [busybox, noMount])
  const dockerConfig = join(scratch(), 'docker')
  await mkdir(dockerConfig)
  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64')
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }))
  env = { DOCKER_CONFIG: dockerConfig }
  fixture = await createFixtureProject('registry-matrix', {
    'vitest.config.ts': umlConfig(
      { matrix: { kernel: ['7.2'], image: ['debian-trixie', refs.busybox, refs.musl, refs.debian] } },
      { maxWorkers: 2 },
    ),
    // The same images, with the tests run as a uid that none of them lists in /etc/passwd.
    'vitest.uid.config.ts': umlConfig({ user: '4242', matrix: { image: [refs.busybox, refs.debian] } }),
    'vitest.unusable.config.ts': umlConfig({ image: refs.unusable }, { pool: 'uml' }),
    'test/userland.test.ts': TEST_FILE,
  })
}, 600_000)

afterAll(async () => {
  await fixture?.remove()
  await registry?.stop()
  const imagesDir = join(getCacheDir(), 'images')
  for (const name of await readdir(imagesDir)) {
    if (name.startsWith(registry.host.replace(/[^a-z0-9._-]/g, '_'))) await removeCacheTree(join(imagesDir, name))
  }
})

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

it('pulls registry images before the run, pins them beside the config, and runs each as a matrix cell', async () => {
  const run = await runVitest(fixture.root, ['run'], env)
  expect(run.exitCode, run.output).toBe(0)
  expect(run.output).toMatch(/pull 127\.0\.0\.1:\d+\/vitest\/debian:bookworm/)
  expect(run.output).toContain(`cell debian-trixie uid 0 node ${process.version} os debian no musl`)
  expect(run.output).toContain(`cell busybox:1 uid 0 node ${process.version} os none no musl`)
  expect(run.output).toContain(`cell musl:1 uid 0 node ${process.version} os none hello from musl`)
  expect(run.output).toContain(`cell debian:bookworm uid 0 node ${process.version} os debian no musl`)
  for (const cell of ['busybox-1@7.2', 'musl-1@7.2', 'debian-bookworm@7.2']) expect(run.output).toContain(cell)
  const lock = JSON.parse(await readFile(join(fixture.root, 'vitest-uml.lock.json'), 'utf8'))
  expect(Object.keys(lock.images).sort()).toEqual([refs.busybox, refs.debian, refs.musl].sort())
})

it('in CI, runs on the pinned images, picks cells by glob, and refuses a reference the lock file lacks', async () => {
  const musl = await runVitest(fixture.root, ['run', '--project', 'musl-*'], { ...env, CI: 'true' })
  expect(musl.exitCode, musl.output).toBe(0)
  expect(musl.output).toContain('hello from musl')
  expect(musl.output).not.toContain('cell busybox')

  const unpinned = `${registry.host}/vitest/busybox:2`
  await writeFile(join(fixture.root, 'vitest.unpinned.config.ts'), umlConfig({ image: unpinned }, { pool: 'uml' }))
  const refused = await runVitest(fixture.root, ['run', '--config', 'vitest.unpinned.config.ts'], {
    ...env,
    CI: 'true',
  })
  expect(refused.exitCode).not.toBe(0)
  expect(refused.output).toContain('UML_IMAGE_NOT_PINNED')
  expect(refused.output).toContain(`vitest-uml images pull ${unpinned}`)
})

it('runs tests as a uid that the image has no passwd entry for', async () => {
  const run = await runVitest(fixture.root, ['run', '--config', 'vitest.uid.config.ts'], { ...env, CI: 'true' })
  expect(run.exitCode, run.output).toBe(0)
  expect(run.output).toContain('cell busybox:1 uid 4242')
  expect(run.output).toContain('cell debian:bookworm uid 4242')
})

it('stops before any guest boots on a userland the guest cannot use, naming what it lacks', async () => {
  const run = await runVitest(fixture.root, ['run', '--config', 'vitest.unusable.config.ts'], env)
  expect(run.exitCode).not.toBe(0)
  expect(run.output).toContain('UML_IMAGE_UNUSABLE')
  expect(run.output).toContain(
    `The image ${refs.unusable} lacks mount, which a guest runs from its own root file system`,
  )
  expect(run.output).not.toContain('runs the Vitest worker on this userland')
})
