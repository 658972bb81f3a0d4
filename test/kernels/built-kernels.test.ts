import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { basename, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { execa } from 'execa'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { builtKernelsRoot, debianMirror, fileSha256, getCacheDir, MANIFEST, resolveKernel } from 'vitest-pool-uml/api'
import { bootGuest } from '../helpers/boot-guest.js'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { awaitBuiltKernels, KERNEL_BUILDS_TIMEOUT_MS } from '../helpers/kernel-builds.js'
import { runCli } from '../helpers/run-cli.js'
import { runVitest } from '../helpers/run-vitest.js'
import { useScratchDir } from '../helpers/scratch-dir.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

// custom-7.2, compiled in the background since the global setup.
beforeAll(awaitBuiltKernels, KERNEL_BUILDS_TIMEOUT_MS)

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

const scratch = useScratchDir('vitest-uml-built-kernels-')

/** A build from the kept objects of custom-7.2 compiles only what its fragment changes; slow machines get room. */
const BUILD_TIMEOUT_MS = 1_200_000

/** A test file that reports, from inside the guest, what the kernel it runs on was built with. */
const kernelReport = `import { readFileSync } from 'node:fs'
import { release } from 'node:os'
import { gunzipSync } from 'node:zlib'
import { it } from 'vitest'

it('reports its kernel', () => {
  const config = gunzipSync(readFileSync('/proc/config.gz')).toString()
  const options = config.split('\\n').filter((line) => /^(# )?CONFIG_(LOCALVERSION|VFAT_FS|MODULES|OVERLAY_FS|UML_NET_VECTOR|UML_TIME_TRAVEL_SUPPORT|HOSTFS)[ =]/.test(line))
  console.log('KERNEL ' + JSON.stringify({ name: process.env.VITEST_UML_KERNEL, release: release(), options, vfat: readFileSync('/proc/filesystems', 'utf8').includes('vfat') }))
})
`

function parseReport(output: string): { name: string; release: string; options: string[]; vfat: boolean } {
  const line = output.split('\n').find((each) => each.startsWith('KERNEL '))
  if (!line) throw new Error(`no kernel report in:\n${output}`)
  return JSON.parse(line.slice('KERNEL '.length))
}

describe('kernels built from source', () => {
  it('custom-7.2 (built by the global setup from the pinned source) boots with time travel, seccomp and its config', async () => {
    const kernel = await resolveKernel('custom-7.2', { cacheDir: getCacheDir() })
    const version = MANIFEST.sources['7.2']?.deb.version
    expect(kernel).toMatchObject({ supportsTimeTravel: true, supportsSeccomp: true, suite: 'sid' })
    expect(kernel.built?.source).toBe(`linux-source-7.2 ${version}`)
    expect(kernel.release).toMatch(/^7\.2\.\d+$/)
    expect((await readdir(kernel.dir)).sort()).toEqual(['build.log', 'config', 'kernel.json', 'lib', 'linux'])

    const guest = await bootGuest({ kernel: 'custom-7.2' })
    try {
      const uname = await guest.exec(['uname', '-r'])
      expect(uname.stdout.trim()).toBe(kernel.release)
      const config = await guest.exec(['sh', '-c', 'gzip -dc /proc/config.gz'])
      for (const option of ['CONFIG_OVERLAY_FS=y', 'CONFIG_UML_NET_VECTOR=y', 'CONFIG_UML_TIME_TRAVEL_SUPPORT=y']) {
        expect(config.stdout).toContain(`\n${option}\n`)
      }
      expect(config.stdout).toContain('# CONFIG_MODULES is not set')
      // Overlayfs is built in: a guest can mount one without modules.
      const overlay = await guest.exec([
        'sh',
        '-c',
        'mkdir -p /tmp/l /tmp/u /tmp/w /tmp/m && echo low > /tmp/l/f && mount -t overlay o -o lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w /tmp/m && cat /tmp/m/f',
      ])
      expect(overlay.stdout.trim()).toBe('low')
    } finally {
      await guest.dispose()
    }

    const list = await runCli(['kernels', 'list'])
    expect(list.exitCode).toBe(0)
    expect(list.stdout).toMatch(
      new RegExp(
        `custom-7\\.2 +linux-source-7\\.2 ${version?.replace(/\./g, '\\.')} +yes \\(7\\.2\\.\\d+, seccomp, time travel\\)`,
      ),
    )
  })

  it(
    "runs the real Vitest worker on a project's own kernel, built by the pool from a config fragment file",
    async () => {
      // A name of this run's own: the pool builds it now, from custom-7.2's kept objects.
      const suffix = `-frag${randomBytes(3).toString('hex')}`
      const fixture = await createFixtureProject('fragment-kernel', {
        'vitest.config.ts': umlConfig({
          kernel: 'frag',
          kernels: { frag: { source: '7.2', config: 'kernel.config' } },
        }),
        'kernel.config': `# vfat in the guest, and a name to see it by\nCONFIG_LOCALVERSION="${suffix}"\nCONFIG_VFAT_FS=y\n`,
        'test/kernel.test.ts': kernelReport,
      })
      let built: string | undefined
      try {
        const run = await runVitest(fixture.root, ['run', '--pool=uml'])
        expect(run.exitCode, run.output).toBe(0)
        expect(run.output).toContain('Building kernel frag')
        const report = parseReport(run.output)
        expect(report.name).toBe('frag')
        expect(report.release).toBe(`${(await resolveKernel('custom-7.2')).release}${suffix}`)
        expect(report.vfat).toBe(true)
        expect(report.options).toEqual(
          expect.arrayContaining([
            `CONFIG_LOCALVERSION="${suffix}"`,
            'CONFIG_VFAT_FS=y',
            'CONFIG_UML_TIME_TRAVEL_SUPPORT=y',
          ]),
        )
        built = (await resolveKernel('frag')).dir
        // The log kept with the kernel says how long its build took.
        expect(await readFile(join(built, 'build.log'), 'utf8')).toMatch(
          /\n# \d+ s from start to end, \d+ s of CPU in the tools it ran\n$/,
        )

        // Built once: the next run finds it in the cache, and so does the CLI by name.
        const again = await runVitest(fixture.root, ['run', '--pool=uml'])
        expect(again.exitCode, again.output).toBe(0)
        expect(again.output).not.toContain('Building kernel frag')
        const cli = await runCli(['run', '--kernel', 'frag', '--', 'uname', '-r'])
        expect(cli.stdout.trim()).toBe(report.release)
      } finally {
        await fixture.remove()
        if (built) await rm(built, { recursive: true, force: true })
      }
    },
    BUILD_TIMEOUT_MS,
  )

  it("puts a project's own kernel in the matrix beside Debian's 7.2, copying the same recipe built under another name", async () => {
    // The recipe of custom-7.2 (built by the global setup) under a name of this run's own: copied, not compiled.
    const own = `own-${randomBytes(3).toString('hex')}`
    const fixture = await createFixtureProject('own-kernel-matrix', {
      'vitest.config.ts': umlConfig({ kernels: { [own]: { source: '7.2' } }, matrix: { kernel: ['7.2', own] } }),
      'test/cell.test.ts': `import { release } from 'node:os'
import { it } from 'vitest'

it('reports its kernel', () => {
  console.log(\`CELL \${process.env.VITEST_UML_KERNEL} \${release()}\`)
})
`,
    })
    try {
      const run = await runVitest(fixture.root, ['run'])
      expect(run.exitCode, run.output).toBe(0)
      expect(run.output).toContain(`Copying kernel custom-7.2 as ${own} (the same source and config)`)
      expect(run.output).not.toContain(`Building kernel ${own}`)
      expect(run.output).toContain('Matrix: 2 of 2 cells ran')
      expect(run.report).toMatchObject({ numTotalTests: 2, numPassedTests: 2 })
      expect(run.output).toContain(`CELL 7.2 ${(await resolveKernel('7.2')).release}`)
      expect(run.output).toContain(`CELL ${own} ${(await resolveKernel('custom-7.2')).release}`)
      expect(run.output).toContain(`debian-trixie@${own}`)
      const copy = await resolveKernel(own, { recipes: { [own]: { source: '7.2' } } })
      expect(copy).toMatchObject({
        name: own,
        supportsTimeTravel: true,
        built: { source: `linux-source-7.2 ${MANIFEST.sources['7.2']?.deb.version}` },
      })
    } finally {
      await fixture.remove()
      await rm(join(builtKernelsRoot(getCacheDir()), own), { recursive: true, force: true })
    }
  })

  it(
    'fails a build broken by its fragment with the log named, and caches nothing',
    async () => {
      // Every function's stack frame is "too large", and warnings are errors: the first file fails.
      const fragment = join(scratch(), 'broken.config')
      await writeFile(fragment, 'CONFIG_WERROR=y\nCONFIG_FRAME_WARN=8\n')
      const result = await runCli(['kernels', 'build', 'broken', '--config', fragment])
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain('[UML_KERNEL_BUILD_FAILED]')
      expect(result.stderr).toContain('Building kernel broken failed: make')
      const logPath = /The whole log is (\S+);/.exec(result.stderr)?.[1]
      expect(logPath).toMatch(/\/built-kernels\/broken\/[0-9a-f]{16}\.log$/)
      const log = await readFile(logPath as string, 'utf8')
      expect(log).toContain('-Werror=frame-larger-than=')
      expect(log).toContain('make (see the errors above) failed')
      await expectNoEntries('broken')
    },
    BUILD_TIMEOUT_MS,
  )

  it('rejects a fragment that turns off what guests need, or asks for what Kconfig drops, before compiling', async () => {
    const fragment = join(scratch(), 'rejected.config')
    await writeFile(fragment, '# CONFIG_HOSTFS is not set\nCONFIG_NO_SUCH_OPTION=y\n')
    const result = await runCli(['kernels', 'build', 'rejected', '--config', fragment])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('[UML_KERNEL_CONFIG_REJECTED]')
    expect(result.stderr).toContain('CONFIG_NO_SUCH_OPTION: wanted y, got n')
    expect(result.stderr).toContain('CONFIG_HOSTFS: wanted y, got n (guests need it')
    expect(result.stderr).not.toContain('Building kernel rejected (make')
    await expectNoEntries('rejected')
  })

  it('checks a source tarball against its SHA-256 before building anything', async () => {
    const tarball = join(scratch(), 'linux-9.9.tar.xz')
    await writeFile(tarball, 'not a kernel')
    const result = await runCli(['kernels', 'build', 'mine', '--source', tarball, '--sha256', 'a'.repeat(64)])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('[UML_KERNEL_HASH_MISMATCH]')
    expect(result.stderr).toContain(`${tarball} is not the kernel source the recipe pins`)
    await expectNoEntries('mine')
  })
})

describe('kernels from a source tarball of your own', () => {
  it(
    'downloads one by URL from a server, checks its SHA-256, unpacks it and runs Kconfig on it, before compiling',
    async () => {
      // A real Linux source tarball: the one inside the pinned linux-source .deb, from the mirror.
      const { tarball, sha256 } = await pinnedSourceTarball(scratch())
      const requests: string[] = []
      const server = createServer((request, response) => {
        requests.push(`${request.method} ${request.url}`)
        if (request.url !== '/linux-source-7.2.tar.xz') return void response.writeHead(404).end()
        response.writeHead(200, { 'content-type': 'application/x-xz' })
        createReadStream(tarball).pipe(response)
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/linux-source-7.2.tar.xz`
      const tree = join(getCacheDir(), 'kernel-sources', sha256.slice(0, 16))
      const name = `url${randomBytes(3).toString('hex')}`
      const fragment = join(scratch(), 'url.config')
      // Kconfig knows no such option, so the build stops after olddefconfig, before compiling.
      await writeFile(fragment, 'CONFIG_VFAT_FS=y\nCONFIG_NO_SUCH_OPTION=y\n')
      try {
        const wrong = await runCli(['kernels', 'build', name, '--source', url, '--sha256', 'b'.repeat(64)])
        expect(wrong.exitCode).toBe(1)
        expect(wrong.stderr).toContain('[UML_KERNEL_HASH_MISMATCH]')
        expect(wrong.stderr).toContain(
          `${url} is not the kernel source the recipe pins: expected sha256 ${'b'.repeat(64)}, got sha256 ${sha256}`,
        )
        expect(existsSync(join(getCacheDir(), 'kernel-sources', 'b'.repeat(16)))).toBe(false)

        const result = await runCli([
          'kernels',
          'build',
          name,
          '--source',
          url,
          '--sha256',
          sha256,
          '--config',
          fragment,
        ])
        expect(result.exitCode, result.all).toBe(1)
        expect(result.stderr).toContain(`Downloading ${url}`)
        expect(result.stderr).toContain(`Unpacking ${url}`)
        expect(result.stderr).toContain('[UML_KERNEL_CONFIG_REJECTED]')
        expect(result.stderr).toContain('CONFIG_NO_SUCH_OPTION: wanted y, got n')
        expect(result.stderr).not.toContain('CONFIG_VFAT_FS')
        expect(requests).toEqual(['GET /linux-source-7.2.tar.xz', 'GET /linux-source-7.2.tar.xz'])
        // The served tarball is the source tree now kept for builds from it, and Kconfig ran on it.
        expect(existsSync(join(tree, 'src', 'arch', 'um', 'Kconfig'))).toBe(true)
        const logPath = /The final \.config ends the build log (\S+)\.$/m.exec(result.stderr)?.[1]
        const log = await readFile(logPath as string, 'utf8')
        expect(log).toContain(`# kernel ${name} from ${url}`)
        expect(log).toContain(`make -C ${join(tree, 'src')} O=`)
        expect(log).toContain('olddefconfig')
        await expectNoEntries(name)
      } finally {
        server.close()
        await rm(tree, { recursive: true, force: true })
        await rm(join(builtKernelsRoot(getCacheDir()), name), { recursive: true, force: true })
      }
    },
    BUILD_TIMEOUT_MS,
  )

  it('checks one given by a path relative to the working directory, and refuses a tarball without Linux in it', async () => {
    const dir = join(scratch(), 'own-source')
    await mkdir(join(dir, 'linux-9.9'), { recursive: true })
    await writeFile(join(dir, 'linux-9.9', 'Makefile'), 'all:\n')
    await execa('tar', ['-cJf', 'linux-9.9.tar.xz', 'linux-9.9'], { cwd: dir })
    const tarball = join(dir, 'linux-9.9.tar.xz')
    const sha256 = await fileSha256(tarball, () => {})
    const name = `path${randomBytes(3).toString('hex')}`
    try {
      const result = await runCli(['kernels', 'build', name, '--source', 'linux-9.9.tar.xz', '--sha256', sha256], {
        cwd: dir,
      })
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain(`Checking ${tarball}`)
      expect(result.stderr).toContain('[UML_KERNEL_BUILD_FAILED]')
      expect(result.stderr).toContain(
        `The source of kernel ${name} (${tarball}) is not a Linux source tree with User Mode Linux`,
      )
      await expectNoEntries(name)
      expect(existsSync(join(getCacheDir(), 'kernel-sources', sha256.slice(0, 16)))).toBe(false)
    } finally {
      await rm(join(builtKernelsRoot(getCacheDir()), name), { recursive: true, force: true })
    }
  })
})

/** The pinned linux-source package's tarball, downloaded from the Debian mirror and unpacked into `dir`, with its SHA-256. */
async function pinnedSourceTarball(dir: string): Promise<{ tarball: string; sha256: string }> {
  const pin = MANIFEST.sources['7.2']
  if (!pin) throw new Error('no pinned 7.2 source')
  const deb = join(dir, basename(pin.deb.filename))
  const response = await fetch(`${debianMirror()}/${pin.deb.filename}`)
  if (!response.ok || !response.body) throw new Error(`${pin.deb.filename}: HTTP ${response.status}`)
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(deb))
  expect(await fileSha256(deb, () => {})).toBe(pin.deb.sha256)
  await execa('dpkg-deb', ['-x', deb, join(dir, 'deb')])
  await rm(deb)
  const tarball = join(dir, 'deb', pin.tarball)
  return { tarball, sha256: await fileSha256(tarball, () => {}) }
}

/** No complete entry under the name, and no temporary one beside it: at most failed builds' logs. */
async function expectNoEntries(name: string): Promise<void> {
  const dir = join(builtKernelsRoot(getCacheDir()), name)
  const left = existsSync(dir) ? await readdir(dir) : []
  expect(left.filter((entry) => !entry.endsWith('.log'))).toEqual([])
}
