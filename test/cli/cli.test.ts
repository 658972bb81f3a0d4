import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { debianMirror, findHostTool, getCacheDir, HOST_TOOLS, type HostTool } from 'vitest-pool-uml/api'
import { awaitBuiltKernels, KERNEL_BUILDS_TIMEOUT_MS } from '../helpers/kernel-builds.js'
import { CLI_PATH, runCli } from '../helpers/run-cli.js'
import { listProcessesMentioning, listUmlProcesses, waitForNoUmlProcesses } from '../helpers/uml-processes.js'
import { waitFor } from '../helpers/wait-for.js'

// custom-7.2, compiled in the background since the global setup.
beforeAll(awaitBuiltKernels, KERNEL_BUILDS_TIMEOUT_MS)

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

/** A PATH directory with every program of /usr/bin but `tool`; remove it after. */
async function pathWithout(tool: string): Promise<string> {
  const bin = await mkdtemp(join(tmpdir(), 'vitest-uml-path-'))
  for (const name of await readdir('/usr/bin')) {
    if (name !== tool) await symlink(join('/usr/bin', name), join(bin, name))
  }
  return bin
}

describe('vitest-uml run', () => {
  it('runs a command as root in a guest and exits with its status', async () => {
    const result = await runCli(['run', '--', 'sh', '-c', 'id -u; uname -r; echo to-stderr >&2; exit 7'])
    expect(result.exitCode).toBe(7)
    expect(result.stdout).toMatch(/^0\n7\.2\.\d+$/)
    expect(result.stderr).toContain('to-stderr')
  })

  it('takes --kernel, --image, --env and --cwd', async () => {
    const result = await runCli([
      'run',
      '--kernel',
      '6.12',
      '--image',
      'debian-trixie',
      '--env',
      'GREETING=hi there',
      '--cwd',
      '/etc',
      '--',
      'sh',
      '-c',
      'echo "$GREETING"; pwd; uname -r; . /etc/os-release; echo $VERSION_CODENAME',
    ])
    expect(result.exitCode).toBe(0)
    expect(result.stdout.split('\n')).toEqual(['hi there', '/etc', expect.stringMatching(/^6\.12\./), 'trixie'])
  })

  it('says a --cwd that is not shared is missing in the guest, and how to share it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-cwd-'))
    try {
      const result = await runCli(['run', '--cwd', dir, '--', 'sh', '-c', 'pwd'])
      expect(result.exitCode).not.toBe(0)
      expect(result.stderr).toContain(
        `Could not start "sh" in the guest: its working directory ${dir} does not exist in the guest. Host directories are in a guest only when shared: add --share ${dir}.`,
      )
      expect(result.stderr).not.toContain('ENOENT')
    } finally {
      await rm(dir, { recursive: true })
    }
  })

  it('shares host directories whose paths have spaces, commas and non-ASCII characters', async () => {
    const readOnly = await mkdtemp(join(tmpdir(), 'vitest-uml share, ro é '))
    const writable = await mkdtemp(join(tmpdir(), 'vitest-uml share, rw ü '))
    try {
      await writeFile(join(readOnly, 'in.txt'), 'from the host')
      const script = `cat "${readOnly}/in.txt"; echo from-guest > "${writable}/out.txt"`
      const result = await runCli(['run', '--share', readOnly, '--share', `${writable}:rw`, '--', 'sh', '-c', script])
      expect(result.stderr).toBe('')
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toBe('from the host')
      expect(await readFile(join(writable, 'out.txt'), 'utf8')).toBe('from-guest\n')
    } finally {
      await rm(readOnly, { recursive: true, force: true })
      await rm(writable, { recursive: true, force: true })
    }
  })

  it('rejects bad input with a coded error that says what to do', async () => {
    const unknownOption = await runCli(['run', '--kernal', '7.2', '--', 'true'])
    expect(unknownOption.exitCode).toBe(2)
    expect(unknownOption.stderr).toContain('UML_INVALID_OPTIONS')
    expect(unknownOption.stderr).toContain("'--kernal'")
    const noCommand = await runCli(['run'])
    expect(noCommand.exitCode).toBe(2)
    expect(noCommand.stderr).toContain('name the command to run after --')
    const unknownKernel = await runCli(['run', '--kernel', '9.9', '--', 'true'])
    expect(unknownKernel.exitCode).toBe(1)
    expect(unknownKernel.stderr).toContain('UML_KERNEL_UNKNOWN')
    expect(unknownKernel.stderr).toContain('7.2')
    const unknownImage = await runCli(['run', '--image', 'debian-potato', '--', 'true'])
    expect(unknownImage.exitCode).toBe(1)
    expect(unknownImage.stderr).toContain('UML_IMAGE_UNKNOWN')
  })

  it('takes --network and --forward: names outside resolve, and a host port answers at host.vitest-uml.internal', async () => {
    const server = createServer((_req, res) => res.end('served by the host'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const port = (server.address() as AddressInfo).port
      const fetchHost = `fetch('http://host.vitest-uml.internal:8080/').then((r) => r.text()).then(console.log)`
      const script = `node -e "${fetchHost}" && getent hosts ${new URL(debianMirror()).hostname} >/dev/null && echo resolved`
      const result = await runCli(['run', '--network', '--forward', `8080:${port}`, '--', 'sh', '-c', script])
      expect(result.stderr).toBe('')
      expect(result.stdout).toBe('served by the host\nresolved')
      expect(result.exitCode).toBe(0)
    } finally {
      server.close()
    }
  })

  it('fails --network with UML_NETWORK_UNAVAILABLE naming the package when slirp4netns is missing, before booting', async () => {
    const bin = await pathWithout('slirp4netns')
    try {
      const cli = runCli(['run', '--network', '--', 'true'], { env: { PATH: bin } })
      const result = await cli
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain(
        "vitest-uml: The guest's network cannot start: slirp4netns is not installed. Install it with: apt-get install slirp4netns (or leave the network option off).\n[UML_NETWORK_UNAVAILABLE]",
      )
      // Nothing of the helper's is left in the cache (other runs' guests may have theirs there).
      const left = await readdir(join(getCacheDir(), 'net')).catch(() => [])
      expect(left.filter((entry) => entry.startsWith(`.guest.tmp-${cli.pid}-`))).toEqual([])
      const doctor = await runCli(['doctor'], { env: { PATH: bin } })
      expect(doctor.stdout).toMatch(/^FAIL {2}slirp4netns: not found\n {6}fix: apt-get install slirp4netns$/m)
      expect(doctor.stdout).toMatch(
        /^FAIL {2}network helper \(for the network option\): slirp4netns is not installed\n {6}fix: apt-get install slirp4netns \(or leave the network option off\)$/m,
      )
      expect(doctor.stdout).toContain('2 problem(s) found.')
      expect(doctor.exitCode).toBe(1)
    } finally {
      await rm(bin, { recursive: true, force: true })
    }
  })

  it('stops its guest when interrupted with SIGINT', async () => {
    const cli = runCli(['run', '--', 'sh', '-c', 'echo started; sleep 300'])
    await new Promise<void>((resolve) =>
      cli.stdout?.on('data', (data: Buffer) => data.toString().includes('started') && resolve()),
    )
    expect(listUmlProcesses()).toHaveLength(1)
    cli.kill('SIGINT')
    const result = await cli
    expect(result.exitCode).toBe(130)
    expect(await waitForNoUmlProcesses()).toEqual([])
  })

  it('leaves no guest running when killed with SIGKILL', async () => {
    const cli = runCli(['run', '--', 'sh', '-c', 'echo started; sleep 300'])
    await new Promise<void>((resolve) =>
      cli.stdout?.on('data', (data: Buffer) => data.toString().includes('started') && resolve()),
    )
    cli.kill('SIGKILL')
    await cli
    expect(await waitForNoUmlProcesses()).toEqual([])
  })
})

describe('vitest-uml images build', () => {
  it('stops every build process and leaves no mount when killed with SIGKILL; the next start removes the half-built image and says so', async () => {
    const cacheHome = await mkdtemp(join(tmpdir(), 'vitest-uml-killed-build-'))
    const tempDir = await mkdtemp(join(tmpdir(), 'vitest-uml-killed-build-tmp-'))
    const env = { XDG_CACHE_HOME: cacheHome, TMPDIR: tempDir }
    try {
      const cli = execa(process.execPath, [CLI_PATH, 'images', 'build', 'debian-bookworm'], { reject: false, env })
      // Killed once mmdebstrap has mounted /proc in its chroot (inside the half-built entry).
      const mountsInChroot = async () => {
        const builders = await listProcessesMentioning(cacheHome)
        const mounts = await Promise.all(
          builders.map((entry) => readFile(`/proc/${entry.split(' ')[0]}/mounts`, 'utf8').catch(() => '')),
        )
        return mounts.join('').includes(`${cacheHome}/`)
      }
      await waitFor('mmdebstrap to mount /proc in its chroot', mountsInChroot, 120_000)
      cli.kill('SIGKILL')
      await cli
      await waitFor(
        'every build process to end',
        async () => (await listProcessesMentioning(cacheHome)).length === 0,
        5000,
      )
      expect(await readFile('/proc/self/mounts', 'utf8')).not.toContain(cacheHome)
      const imagesDir = join(cacheHome, 'vitest-uml', 'images')
      const [halfBuilt] = await readdir(join(imagesDir, 'debian-bookworm'))
      expect(halfBuilt).toMatch(/^\..+\.tmp-\d+-[0-9a-f]{8}-[0-9a-f]+$/)

      const next = await execa(process.execPath, [CLI_PATH, 'images', 'list'], { reject: false, env })
      expect(next.exitCode).toBe(0)
      expect(next.stderr).toContain('vitest-uml: removed what an earlier run left half-built when it was killed:')
      expect(next.stderr).toContain(join(imagesDir, 'debian-bookworm', halfBuilt ?? ''))
      expect(await readdir(imagesDir)).toEqual([])
      // mmdebstrap worked inside the half-built entry, not in TMPDIR.
      expect(await readdir(tempDir)).toEqual([])
    } finally {
      await rm(cacheHome, { recursive: true, force: true })
      await rm(tempDir, { recursive: true, force: true })
    }
  })
})

describe('vitest-uml shell', () => {
  it('gives a root shell on a terminal', async () => {
    // script(1) gives the CLI a pseudo-terminal, as a person at a terminal would have.
    const typing = 'sleep 8; printf "echo uid=\\$(id -u)\\r"; sleep 2; printf "exit\\r"; sleep 2'
    const result = await execa(
      'sh',
      ['-c', `(${typing}) | script -qec "${process.execPath} ${CLI_PATH} shell" /dev/null`],
      { reject: false },
    )
    expect(result.stdout).toContain('uid=0')
    expect(result.stdout).toContain('logout')
    expect(result.exitCode).toBe(0)
  })

  it('refuses to start without a terminal', async () => {
    const result = await runCli(['shell'], { input: 'id\n' })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('needs a terminal')
  })
})

describe('vitest-uml kernels, images and doctor', () => {
  it('lists the pinned kernels and the built-in recipe as cached', async () => {
    const result = await runCli(['kernels', 'list'])
    expect(result.exitCode).toBe(0)
    for (const name of ['5.10 ', '6.1 ', '6.12 ', '7.2 (default) ', 'custom-7.2 ']) {
      expect(result.stdout.split('\n').find((line) => line.startsWith(name))).toMatch(/ yes \(/)
    }
  })

  it('lists the four recipe images as built', async () => {
    const result = await runCli(['images', 'list'])
    expect(result.exitCode).toBe(0)
    for (const name of ['debian-bullseye', 'debian-bookworm', 'debian-trixie', 'debian-sid']) {
      expect(result.stdout).toMatch(new RegExp(`${name}\\s+recipe\\s+yes`))
    }
  })

  it('doctor finds this host ready, kernel builds included', async () => {
    const result = await runCli(['doctor'])
    expect(result.stdout).toMatch(/^ok +user namespaces: /m)
    expect(result.stdout).toContain('This host can run vitest-uml guests.')
    expect(result.stdout).toMatch(/^ok {4}kernel builds/m)
    expect(result.exitCode).toBe(0)
  })

  it('doctor warns, with the apt-get line, when kernel builds lack tools or taskset is missing, and still passes; a guest starts without taskset', async () => {
    // A PATH with everything but flex, bison and taskset.
    const bin = await mkdtemp(join(tmpdir(), 'vitest-uml-path-'))
    try {
      for (const tool of [...Object.keys(HOST_TOOLS), 'gcc', 'make', 'bc', 'gzip', 'xz', 'sh', 'ldd']) {
        const found = tool === 'taskset' ? undefined : await findHostTool(tool as HostTool)
        if (found) await symlink(found, join(bin, tool))
      }
      const result = await runCli(['doctor'], { env: { PATH: bin } })
      expect(result.stdout).toMatch(/^warn {2}kernel builds .*: missing flex, bison$/m)
      expect(result.stdout).toContain('fix: apt-get install flex bison')
      expect(result.stdout).toMatch(
        /^warn {2}taskset: not found: guests are not pinned to CPUs of their own, and run slower\n {6}fix: apt-get install util-linux$/m,
      )
      expect(result.exitCode).toBe(0)
      const run = await runCli(['run', '--', 'echo', 'unpinned'], { env: { PATH: bin } })
      expect(run.stdout).toBe('unpinned')
      expect(run.exitCode).toBe(0)
    } finally {
      await rm(bin, { recursive: true, force: true })
    }
  })

  it('prints usage for an unknown command', async () => {
    const result = await runCli(['frobnicate'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('unknown command "frobnicate"')
    expect(result.stderr).toContain('Usage: vitest-uml')
  })
})
