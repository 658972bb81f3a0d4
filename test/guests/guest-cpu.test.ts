import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { execa } from 'execa'
import { afterEach, describe, expect, it } from 'vitest'
import { processTreePids } from 'vitest-pool-uml/api'
import { bootGuest } from '../helpers/boot-guest.js'
import { createFixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { CLI_PATH, runCli } from '../helpers/run-cli.js'
import { startVitest } from '../helpers/run-vitest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'
import { waitFor } from '../helpers/wait-for.js'

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

/** A host process's Cpus_allowed_list ("0-1", "1"), or undefined once it has ended. */
async function allowedCpus(pid: number | 'self'): Promise<string | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined)
  return status && /^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1]
}

/** What all of a guest's host processes (bwrap, the kernel, its guest programs) may run on. */
async function guestCpus(hostPid: number): Promise<string> {
  const lists = new Set(
    (await Promise.all((await processTreePids(hostPid)).map(allowedCpus))).filter((list) => list !== undefined),
  )
  expect([...lists]).toHaveLength(1)
  return [...lists][0]!
}

/** The one CPU a guest runs on. */
async function guestCpu(hostPid: number): Promise<string> {
  const list = await guestCpus(hostPid)
  expect(list).toMatch(/^\d+$/)
  return list
}

/** The processes named `name` under a host process (a UML kernel's host process is `linux`). */
async function pidsNamed(pid: number, name: string): Promise<number[]> {
  const tree = await processTreePids(pid)
  const names = await Promise.all(tree.map((member) => readFile(`/proc/${member}/comm`, 'utf8').catch(() => '')))
  return tree.filter((_, index) => names[index]?.trim() === name)
}

/** The UML kernels under a host process. */
function kernelPids(pid: number): Promise<number[]> {
  return pidsNamed(pid, 'linux')
}

/** The CPU lists of the UML kernels under a host process, polled until it ends. */
async function kernelCpusUntilExit(pid: number, running: Promise<unknown>): Promise<Set<string>> {
  const seen = new Set<string>()
  let done = false
  void running.finally(() => {
    done = true
  })
  while (!done) {
    for (const kernel of await kernelPids(pid)) {
      const list = await allowedCpus(kernel)
      if (list !== undefined) seen.add(list)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return seen
}

describe('guest CPUs', () => {
  it('runs every host process of a guest on one CPU, and a process spreads its guests over the CPUs', async () => {
    // The suite's machines have two CPUs; with one there is nothing to choose and nothing is pinned.
    expect(await allowedCpus('self')).toMatch(/^\d+-\d+$/)
    const guests = await Promise.all([bootGuest(), bootGuest()])
    try {
      // Host processes the kernel starts after its boot, for guest programs, are pinned with it.
      for (const guest of guests) expect((await guest.exec(['sh', '-c', 'sleep 0 | cat'])).exitCode).toBe(0)
      const cpus = await Promise.all(guests.map((guest) => guestCpu(guest.hostPid!)))
      expect(cpus[0]).not.toBe(cpus[1])
    } finally {
      await Promise.all(guests.map((guest) => guest.dispose()))
    }
  })

  it("puts another process's guest on a CPU this process's guest leaves free", async () => {
    const guest = await bootGuest()
    try {
      const mine = await guestCpu(guest.hostPid!)
      // A wrong count would pick at random among two CPUs: four right picks in a row are 1 in 16 by chance.
      for (let attempt = 0; attempt < 4; attempt++) {
        const cli = runCli(['run', '--', 'sleep', '60'])
        let kernel: number | undefined
        let theirs: string | undefined
        await waitFor('the CLI guest', async () => {
          kernel = (await kernelPids(cli.pid!))[0]
          theirs = kernel === undefined ? undefined : await allowedCpus(kernel)
          return theirs !== undefined
        })
        cli.kill('SIGTERM')
        await cli
        // Its sandbox goes with the CLI, not at once: the next CLI must not count it.
        await waitFor('the CLI guest to end', async () => (await allowedCpus(kernel!)) === undefined)
        expect(theirs).toMatch(/^\d+$/)
        expect(theirs).not.toBe(mine)
      }
    } finally {
      await guest.dispose()
    }
  })

  it.skipIf(!existsSync('/proc/self/autogroup'))(
    'runs the guest and the network helper of a niced process at that niceness, in the sessions bubblewrap gives them too',
    async () => {
      const autogroup = (pid: number) => readFile(`/proc/${pid}/autogroup`, 'utf8').catch(() => '')
      // What a session of its own gets by default: a scheduling group at niceness 0, whatever nice said.
      const bare = execa('nice', ['-n', '7', 'sleep', '10'], { detached: true, reject: false })
      expect(await autogroup(bare.pid!)).toMatch(/ nice 0$/m)
      bare.kill('SIGKILL')
      await bare
      const cli = execa('nice', ['-n', '7', process.execPath, CLI_PATH, 'run', '--network', '--', 'sleep', '60'], {
        reject: false,
      })
      const groups = { linux: '', slirp4netns: '' }
      await waitFor('the CLI guest and its network helper at niceness 7', async () => {
        for (const name of ['linux', 'slirp4netns'] as const) {
          const [pid] = await pidsNamed(cli.pid!, name)
          groups[name] = pid === undefined ? '' : await autogroup(pid)
        }
        return Object.values(groups).every((group) => / nice 7$/m.test(group))
      })
      cli.kill('SIGTERM')
      await cli
      expect(groups.linux).toMatch(/ nice 7$/m)
      expect(groups.slirp4netns).toMatch(/ nice 7$/m)
    },
  )

  it('leaves a guest booted with pinCpu: false to the host scheduler', async () => {
    const guest = await bootGuest({ pinCpu: false })
    try {
      expect(await guestCpus(guest.hostPid!)).toBe(await allowedCpus('self'))
    } finally {
      await guest.dispose()
    }
  })

  it('pins the guests a pool keeps for many files, and not those of freshKernel, booted per file', async () => {
    const files = Object.fromEntries(
      [1, 2, 3].map((n) => [
        `test/wait-${n}.test.ts`,
        `import { it } from 'vitest'\nit('waits', () => new Promise((r) => setTimeout(r, 1500)))\n`,
      ]),
    )
    for (const freshKernel of [false, true]) {
      const project = await createFixtureProject('guest-cpu', {
        ...files,
        'vitest.config.ts': umlConfig({ freshKernel }),
      })
      try {
        const vitest = startVitest(project.root, ['run', '--pool=uml'])
        const seen = await kernelCpusUntilExit(vitest.process.pid!, vitest.result)
        expect((await vitest.result).exitCode, (await vitest.result).output).toBe(0)
        expect(seen.size).toBeGreaterThan(0)
        for (const list of seen) expect(list).toMatch(freshKernel ? /^\d+-\d+$/ : /^\d+$/)
      } finally {
        await project.remove()
      }
    }
  })
})
