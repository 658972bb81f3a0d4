import { createHash, randomBytes } from 'node:crypto'
import { lstat, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Guest, type GuestProcess, getCacheDir, isUmlError } from 'vitest-pool-uml/api'
import { bootGuest, guestOptions } from '../helpers/boot-guest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

describe('a guest', () => {
  it('runs commands as root, streams output and passes exit statuses through', async () => {
    const guest = await bootGuest()
    try {
      const id = await guest.exec(['id', '-u'])
      expect(id.stdout.trim()).toBe('0')
      const chunks: string[] = []
      const result = await guest.exec(['sh', '-c', 'echo out; echo err >&2; exit 42'], {
        onStdout: (data) => chunks.push(`out:${Buffer.from(data).toString().trim()}`),
        onStderr: (data) => chunks.push(`err:${Buffer.from(data).toString().trim()}`),
      })
      expect(result.exitCode).toBe(42)
      expect(chunks.sort()).toEqual(['err:err', 'out:out'])
      const killed = await guest.exec(['sh', '-c', 'kill -TERM $$'])
      expect(killed).toMatchObject({ exitCode: null, signal: 'SIGTERM' })
      // Root can do what only root can: add a user, write under /etc.
      const useradd = await guest.exec(['sh', '-c', 'useradd -m alice && id -u alice && echo hi > /etc/only-root'])
      expect(useradd.exitCode).toBe(0)
      expect(Number(useradd.stdout.trim())).toBeGreaterThanOrEqual(1000)
    } finally {
      await guest.dispose()
    }
  })

  it('carries large payloads both ways over the serial channel', async () => {
    const guest = await bootGuest()
    try {
      // Three variables just under Linux's 128 KiB limit for one: 300 KB through the flow-controlled side.
      const big = 'x'.repeat(100_000)
      const inbound = await guest.exec(['sh', '-c', 'printf %s "$A$B$C" | wc -c'], { env: { A: big, B: big, C: big } })
      expect(inbound.stdout.trim()).toBe('300000')
      const tooBig = guest.exec(['true'], { env: { HUGE: 'x'.repeat(200_000) } })
      await expect(tooBig).rejects.toMatchObject({
        code: 'UML_COMMAND_FAILED',
        message: expect.stringContaining('E2BIG'),
      })
      const outbound = await guest.exec(['sh', '-c', 'head -c 5000000 /dev/zero | tr "\\0" y'])
      expect(outbound.stdout.length).toBe(5_000_000)
    } finally {
      await guest.dispose()
    }
  })

  it('reads the Node runtime over hostfs once: a later Node finds its binary and libraries cached', async () => {
    const guest = await bootGuest()
    try {
      // Major faults are pages a process had to read in; hostfs drops a file's pages once unused.
      const majorFaults = async () =>
        Number((await guest.exec(['node', '-p', 'process.resourceUsage().majorPageFault'])).stdout)
      const first = await majorFaults()
      const second = await majorFaults()
      expect(first).toBeGreaterThan(300)
      expect(second).toBeLessThan(50)
    } finally {
      await guest.dispose()
    }
  })

  it('delivers large and small IPC messages in order through spool files, removes the files, and acknowledges in bulk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-echo-'))
    // Echoes each message's length and a checksum, so the host can tell that every byte arrived.
    await writeFile(
      join(dir, 'echo.cjs'),
      "const { createHash } = require('node:crypto')\n" +
        "process.on('message', (m) => process.send({ n: m.n, sha: createHash('sha256').update(m.data).digest('hex') }))\n",
    )
    const guest = await bootGuest({ shares: [{ hostPath: dir }] })
    try {
      const echo = guest.fork(join(dir, 'echo.cjs'))
      const sizes = [3, 4_000_000, 10, 600, 511, 100_000, 1]
      const replies: Array<{ n: number; sha: string }> = []
      const all = new Promise<void>((resolve) =>
        echo.on('message', (reply) => {
          replies.push(reply as { n: number; sha: string })
          if (replies.length === sizes.length) resolve()
        }),
      )
      const sent = sizes.map((size, n) => {
        const data = randomBytes(size)
        echo.send({ n, data })
        return { n, sha: createHash('sha256').update(data).digest('hex') }
      })
      await all
      expect(replies).toEqual(sent)
      expect(guest.channelCounters.bytesToGuest).toBeGreaterThan(4_100_000)
      // A small request and its reply cross the line once each: the agent acknowledges what it
      // read once half the host's 2 KiB window is (20 requests of 30 bytes: no ack).
      const framesBefore = guest.channelCounters.framesFromGuest
      for (let n = 0; n < 20; n++) {
        const reply = new Promise((resolve) => echo.once('message', resolve))
        echo.send({ n, data: Buffer.alloc(1) })
        await reply
      }
      expect(guest.channelCounters.framesFromGuest - framesBefore).toBeLessThanOrEqual(22)
      echo.kill('SIGKILL')
    } finally {
      await guest.dispose()
      await rm(dir, { recursive: true, force: true })
    }
    const cache = await readdir(getCacheDir())
    // Guests of other runs on the machine share the cache: only this process's spool directories count.
    expect(cache.filter((name) => name.startsWith(`.guest-spool.tmp-${process.pid}-`))).toEqual([])
  })

  // On 5.10 the agent polls; from 6.1 it waits on io_uring (kernels-boot.test.ts).
  it.each(['5.10', '7.2'])(
    "relays a process's last IPC messages before its exit, and stops one that ignores SIGTERM with SIGKILL (kernel %s)",
    async (kernel) => {
      const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-stubborn-'))
      await writeFile(
        join(dir, 'stubborn.cjs'),
        "process.on('SIGTERM', () => process.send('ignored SIGTERM'))\n" +
          "process.on('message', () => { for (let i = 0; i < 99; i++) process.send(i); process.send(99, () => process.exit(3)) })\n" +
          "process.send('ready')\n",
      )
      const guest = await bootGuest({ kernel, shares: [{ hostPath: dir }] })
      // What a forked process told the host, its exit last; `act` once it is ready.
      const run = (act: (child: GuestProcess) => void) =>
        new Promise<unknown[]>((resolve) => {
          const child = guest.fork(join(dir, 'stubborn.cjs'))
          const events: unknown[] = []
          child.on('message', (message) => {
            events.push(message)
            if (message === 'ready') act(child)
          })
          child.on('exit', ({ code, signal }) => resolve([...events, `exit ${code} ${signal}`]))
        })
      try {
        const numbers = Array.from({ length: 100 }, (_, i) => i)
        expect(await run((child) => child.send('go'))).toEqual(['ready', ...numbers, 'exit 3 null'])
        // The agent gives a process 500 ms after SIGTERM, then kills it.
        expect(await run((child) => child.kill('SIGTERM'))).toEqual(['ready', 'ignored SIGTERM', 'exit null SIGKILL'])
      } finally {
        await guest.dispose()
        await rm(dir, { recursive: true, force: true })
      }
    },
  )

  it('boots sixteen guests at once, each to ready', async () => {
    // Boots that crowd the host's event loop: a guest whose hello came while the host awaited
    // something else used to wait for its setup until the boot timed out.
    for (let round = 0; round < 2; round++) {
      const booted = await Promise.allSettled(Array.from({ length: 16 }, () => bootGuest({ bootTimeoutMs: 30_000 })))
      await Promise.all(booted.map((boot) => (boot.status === 'fulfilled' ? boot.value.dispose() : undefined)))
      expect(booted.filter((boot) => boot.status === 'rejected').map((boot) => String(boot.reason))).toEqual([])
    }
  })

  it('starts every guest on a pristine disk: what one wrote, the next does not see', async () => {
    const first = await bootGuest()
    try {
      const wrote = await first.exec(['sh', '-c', 'echo secret > /root/left-behind && sync && cat /root/left-behind'])
      expect(wrote.stdout.trim()).toBe('secret')
    } finally {
      await first.dispose()
    }
    const second = await bootGuest()
    try {
      const looked = await second.exec(['test', '-e', '/root/left-behind'])
      expect(looked.exitCode).toBe(1)
    } finally {
      await second.dispose()
    }
  })

  it('leaves nothing on the host disk: COW layer and memory live in the sandbox', async () => {
    // A private TMPDIR, so other processes on the machine cannot disturb the comparison.
    const scratch = await mkdtemp(join(tmpdir(), 'vitest-uml-tmpdir-'))
    const savedTmpdir = process.env.TMPDIR
    const cacheBefore = await diskUsage(getCacheDir())
    process.env.TMPDIR = scratch
    try {
      const guest = await bootGuest()
      try {
        const write = await guest.exec(['sh', '-c', 'head -c 20000000 /dev/urandom > /var/tmp/blob && sync'])
        expect(write.exitCode).toBe(0)
      } finally {
        await guest.dispose()
      }
      expect(await readdir(scratch)).toEqual([])
      expect(await diskUsage(getCacheDir())).toEqual(cacheBefore)
    } finally {
      // Assigning undefined would set the string "undefined".
      if (savedTmpdir === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = savedTmpdir
      await rm(scratch, { recursive: true, force: true })
    }
  })

  it('with the default disk limit, fills its own file system (ENOSPC) and runs on', async () => {
    const guest = await bootGuest()
    try {
      const fill = await guest.exec([
        'sh',
        '-c',
        'dd if=/dev/zero of=/fill bs=4M 2>&1; sync; df --output=avail -m / | tail -1; rm /fill; echo after > /after && cat /after',
      ])
      expect(fill.stdout).toContain('No space left on device')
      expect(fill.stdout.split('\n').map((line) => line.trim())).toContain('0')
      expect(fill.stdout).toContain('after')
      expect(guest.consoleTail()).not.toContain('critical space allocation')
      expect(guest.alive).toBe(true)
    } finally {
      await guest.dispose()
    }
  })

  it('exposes shares read-only unless asked, at the same path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-share-'))
    await writeFile(join(dir, 'hello.txt'), 'from the host')
    const writableDir = await mkdtemp(join(tmpdir(), 'vitest-uml-share-rw-'))
    try {
      const guest = await bootGuest({ shares: [{ hostPath: dir }, { hostPath: writableDir, writable: true }] })
      try {
        expect((await guest.exec(['cat', join(dir, 'hello.txt')])).stdout).toBe('from the host')
        expect((await guest.exec(['sh', '-c', `echo x > ${dir}/new`])).exitCode).not.toBe(0)
        expect((await guest.exec(['sh', '-c', `echo x > ${writableDir}/new`])).exitCode).toBe(0)
      } finally {
        await guest.dispose()
      }
      expect(await readdir(dir)).toEqual(['hello.txt'])
      expect(await readdir(writableDir)).toEqual(['new'])
    } finally {
      await rm(dir, { recursive: true, force: true })
      await rm(writableDir, { recursive: true, force: true })
    }
  })

  it('fails a panicking guest with UML_GUEST_PANIC and the console as evidence', async () => {
    const guest = await bootGuest()
    const error = await guest.exec(['sh', '-c', 'echo c > /proc/sysrq-trigger']).catch((caught: unknown) => caught)
    if (!isUmlError(error, 'UML_GUEST_PANIC')) throw error
    expect(error.details.consoleTail).toContain('Kernel panic')
    expect(error.details.commandLine).toContain('root=/dev/ubda')
    // The one-line cause, without the console.
    expect(error.shortMessage).toContain('panicked')
    expect(error.shortMessage).not.toContain('Console')
    expect(error.message).toContain(error.details.consoleTail)
    await guest.dispose()
    await expect(guest.exec(['true'])).rejects.toMatchObject({ code: 'UML_GUEST_PANIC' })
  })

  it('fails a guest that never becomes ready with UML_GUEST_BOOT_TIMEOUT and its console', async () => {
    // An init that boots the kernel but never starts the agent.
    const options = await guestOptions({
      bootTimeoutMs: 8000,
      // The kernel splits its command line at spaces, so the script uses $IFS instead.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable, not a template
      extraKernelArgs: ['init=/bin/sh', '--', '-c', 'echo${IFS}stuck-before-agent;exec${IFS}sleep${IFS}1000'],
    })
    const error = await Guest.boot(options).catch((caught: unknown) => caught)
    if (!isUmlError(error, 'UML_GUEST_BOOT_TIMEOUT')) throw error
    expect(error.details.consoleTail).toContain('stuck-before-agent')
    expect(error.details.commandLine.join(' ')).toContain('init=/bin/sh')
  })
})

/** Where the global setup's kernel builds write while other files run; a guest writes to neither. */
const BUILD_AREAS = new Set(['built-kernels', 'kernel-sources', 'kernel-objects'])

/**
 * Files and bytes under a cache directory, to show a guest added nothing there. Spool directories
 * of guests that other runs on the machine boot meanwhile (in the shared cache) come and go, and
 * kernel builds write on: left out.
 */
async function diskUsage(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0
  let bytes = 0
  const tops = (await readdir(dir)).filter((top) => !BUILD_AREAS.has(top))
  const nested = await Promise.all(
    tops.map(async (top) =>
      (await readdir(join(dir, top), { recursive: true }).catch(() => [])).map((entry) => join(top, entry)),
    ),
  )
  for (const entry of [...tops, ...nested.flat()]) {
    if (entry.startsWith('.guest-spool.tmp-') && !entry.startsWith(`.guest-spool.tmp-${process.pid}-`)) continue
    const info = await lstat(join(dir, entry)).catch(() => undefined)
    if (!info) continue
    files++
    bytes += info.isFile() ? info.size : 0
  }
  return { files, bytes }
}
