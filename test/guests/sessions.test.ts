import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { bootGuest } from '../helpers/boot-guest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

afterEach(async () => {
  expect(await waitForNoUmlProcesses()).toEqual([])
})

/** What a session leaves behind, if anything leaks: users, files, /tmp, processes, mounts, hostname, IPC. */
const LEAVE_TRACES = [
  'useradd -m bob',
  'echo leak > /etc/leak',
  'echo leak > /root/leak',
  'echo leak > /tmp/leak',
  'echo leak > /dev/shm/leak',
  '(setsid sleep 1000 >/dev/null 2>&1 &)',
  'mkdir -p /mnt/m && mount -t tmpfs leak /mnt/m',
  'hostname leaked',
  'perl -e "use IPC::SysV qw(IPC_PRIVATE S_IRWXU); shmget(IPC_PRIVATE, 4096, S_IRWXU) // die"',
  'echo 33 > /proc/sys/vm/swappiness',
].join(' && ')

const LOOK_FOR_TRACES = [
  'id bob >/dev/null 2>&1 && echo user',
  'test -e /etc/leak && echo etc',
  'test -e /root/leak && echo root',
  'test -e /tmp/leak && echo tmp',
  'test -e /dev/shm/leak && echo shm',
  'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done | grep -q "^sleep 1000" && echo process',
  'grep -q " /mnt/m " /proc/mounts && echo mount',
  '[ "$(hostname)" = leaked ] && echo hostname',
  '[ "$(tail -n +3 /proc/sysvipc/shm | wc -l)" -gt 0 ] && echo ipc',
  '[ "$(cat /proc/sys/vm/swappiness)" = 33 ] && echo sysctl',
  'true',
].join('; ')

it('gives each session a pristine system in a booted guest; only kernel-wide state carries over', async () => {
  const guest = await bootGuest()
  try {
    const first = await guest.exec(['sh', '-c', `${LEAVE_TRACES} && echo $PPID && hostname`], { session: true })
    expect(first.stderr).toBe('')
    // The session's program is a child of its own PID namespace's init, with its own hostname.
    expect(first.stdout.split('\n').slice(0, 2)).toEqual(['1', 'leaked'])
    const second = await guest.exec(['sh', '-c', LOOK_FOR_TRACES], { session: true })
    // Of everything the first session did, the next one sees only what the kernel keeps for all:
    // a sysctl outside any namespace.
    expect(second.stdout.trim().split('\n')).toEqual(['sysctl'])
    // The guest outside the sessions saw none of it either.
    const outside = await guest.exec(['sh', '-c', LOOK_FOR_TRACES])
    expect(outside.stdout.trim().split('\n')).toEqual(['sysctl'])
    // Without a session, the same traces stay for the next command: the checks can fail.
    await guest.exec(['sh', '-c', 'useradd carol && echo leak > /etc/leak'])
    const after = await guest.exec(['sh', '-c', 'id carol >/dev/null && cat /etc/leak'], { session: true })
    expect(after.exitCode).toBe(1)
    const plain = await guest.exec(['sh', '-c', 'id carol >/dev/null && cat /etc/leak'])
    expect(plain.stdout.trim()).toBe('leak')
  } finally {
    await guest.dispose()
  }
})

it('runs a forked Node process in a session with its IPC channel, and commands as another user, in their working directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-session-'))
  await writeFile(
    join(dir, 'report.cjs'),
    "process.on('message', (m) => process.send({ echo: m, ppid: process.ppid, uid: process.getuid(), cwd: process.cwd() }))\n",
  )
  const guest = await bootGuest({ shares: [{ hostPath: dir }] })
  try {
    const child = guest.fork(join(dir, 'report.cjs'), { session: true, cwd: '/tmp' })
    const stderr: string[] = []
    child.on('stderr', (data) => stderr.push(Buffer.from(data).toString()))
    const reply = new Promise((resolve) => {
      child.once('message', resolve)
      child.once('exit', (status) => resolve({ exited: status, stderr: stderr.join('') }))
    })
    child.send({ hello: 'session' })
    expect(await reply).toEqual({ echo: { hello: 'session' }, ppid: 1, uid: 0, cwd: '/tmp' })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    const asNobody = await guest.exec(['sh', '-c', 'id -u && pwd && echo $PPID'], {
      session: true,
      user: 'nobody',
      cwd: '/var',
    })
    expect(asNobody.stdout.split('\n').slice(0, 3)).toEqual(['65534', '/var', '1'])
    // What cannot start says why, with a shell's statuses.
    const missing = await guest.exec(['no-such-command'], { session: true })
    expect([missing.exitCode, missing.stderr]).toEqual([
      127,
      'vitest-uml: session: cannot run no-such-command: not found\n',
    ])
    const noCwd = await guest.exec(['true'], { session: true, cwd: '/no/such/dir' })
    expect([noCwd.exitCode, noCwd.stderr]).toEqual([
      2,
      'vitest-uml: session: cannot enter the working directory /no/such/dir: ENOENT\n',
    ])
  } finally {
    await guest.dispose()
    await rm(dir, { recursive: true, force: true })
  }
})

it('gives each session its own copy-on-write view of a copy-on-write share, the pristine image and the guest disk for its writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-session-cow-'))
  await writeFile(join(dir, 'kept.txt'), 'host\n')
  const guest = await bootGuest({ shares: [{ hostPath: dir, copyOnWrite: true }], diskMiB: 256 })
  try {
    // The share is writable at its own path, as in a fresh guest; diskChanges() finds the image.
    const first = await guest.exec(
      [
        'sh',
        '-c',
        'cat kept.txt && echo session > kept.txt && echo new > added.txt && cat kept.txt && test -f /run/vitest-uml-base/etc/os-release && echo base',
      ],
      { session: true, cwd: dir },
    )
    expect(first.stderr).toBe('')
    expect(first.stdout).toBe('host\nsession\nbase\n')
    // The next session sees the share as the host has it: the first one's writes went with it.
    const second = await guest.exec(['sh', '-c', 'cat kept.txt && ls'], { session: true, cwd: dir })
    expect(second.stdout).toBe('host\nkept.txt\n')
    // So does the guest outside sessions, and the host.
    const outside = await guest.exec(['sh', '-c', `cat ${dir}/kept.txt && ls ${dir}`])
    expect(outside.stdout).toBe('host\nkept.txt\n')
    expect(await readFile(join(dir, 'kept.txt'), 'utf8')).toBe('host\n')
    // The agent removes what each session wrote once it is over.
    const left = await guest.exec([
      'sh',
      '-c',
      'for i in $(seq 50); do [ -z "$(ls -A /var/lib/vitest-uml/sessions)" ] && break; sleep 0.1; done; ls -A /var/lib/vitest-uml/sessions',
    ])
    expect(left.stdout).toBe('')
    // A session writes to the guest's disk, not its memory: past the disk limit the guest stops, as a fresh one would.
    const full = await guest
      .exec(['sh', '-c', 'dd if=/dev/zero of=/fill bs=1M count=512 2>&1; sync'], { session: true })
      .catch((error: unknown) => error)
    expect(full).toMatchObject({ code: 'UML_GUEST_DISK_FULL' })
  } finally {
    await guest.dispose()
    await rm(dir, { recursive: true, force: true })
  }
})
