import { randomBytes } from 'node:crypto'
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findHostTool, guestSandboxArgs, parseGuestOptions, SANDBOX_NODE_DIR } from 'vitest-pool-uml/api'
import { bootGuest, guestOptions } from '../helpers/boot-guest.js'
import { expectKernelLevelAttackFailed, kernelLevelAttack } from '../helpers/guest-attacks.js'
import { listUmlProcesses } from '../helpers/uml-processes.js'

/**
 * Guest root is hostile: it may mount hostfs with any path. The host-side sandbox must keep every
 * host file it was not given out of reach, whatever the guest kernel allows.
 */
describe.each(['7.2', '6.1'])('the host-side jail, kernel %s', (kernel) => {
  const secret = `canary-${randomBytes(8).toString('hex')}`
  let canaryDir: string
  let shareDir: string
  let readOnlyDir: string

  beforeAll(async () => {
    canaryDir = await mkdtemp(join(tmpdir(), 'vitest-uml-canary-'))
    await writeFile(join(canaryDir, 'canary.txt'), secret)
    shareDir = await mkdtemp(join(tmpdir(), 'vitest-uml-shared-'))
    readOnlyDir = await mkdtemp(join(tmpdir(), 'vitest-uml-readonly-'))
    await writeFile(join(readOnlyDir, 'project.txt'), 'original')
  })

  afterAll(async () => {
    await rm(canaryDir, { recursive: true, force: true })
    await rm(shareDir, { recursive: true, force: true })
    await rm(readOnlyDir, { recursive: true, force: true })
  })

  it('keeps guest root away from host files outside the shares', async () => {
    const canary = join(canaryDir, 'canary.txt')
    const attempts = [
      // The host's root, as hostfs shows it without a path.
      'mount -t hostfs none /mnt',
      `mount -t hostfs -o hostfs=/ none /mnt`,
      `mount -t hostfs -o / none /mnt`,
      // `..` out of a share, in both mount syntaxes.
      `mount -t hostfs -o hostfs=${shareDir}/../.. none /mnt`,
      `mount -t hostfs -o ${shareDir}/../.. none /mnt`,
      'mount -t hostfs -o hostfs=../../../.. none /mnt',
      // The canary's own directory, named outright.
      `mount -t hostfs -o hostfs=${canaryDir} none /mnt`,
      `mount -t hostfs -o ${canaryDir} none /mnt`,
    ]
    const guest = await bootGuest({
      kernel,
      shares: [{ hostPath: shareDir, writable: true }, { hostPath: readOnlyDir }],
    })
    try {
      for (const attempt of attempts) {
        const script = `mkdir -p /mnt; ${attempt} 2>&1; cat /mnt${canary} /mnt${canary.slice(1)} /mnt/canary.txt 2>&1; ls /mnt 2>&1; cat /mnt/etc/hostname 2>&1; echo overwritten > /mnt${canary} 2>&1; umount /mnt 2>/dev/null; true`
        const result = await guest.exec(['sh', '-c', script])
        expect(result.stdout, attempt).not.toContain(secret)
      }
      // A symlink planted in a writable share resolves inside the guest, not on the host.
      await guest.exec(['ln', '-s', canary, join(shareDir, 'link')])
      const viaLink = await guest.exec(['sh', '-c', `cat ${join(shareDir, 'link')} 2>&1`])
      expect(viaLink.stdout).not.toContain(secret)
      // A hard link to a file outside the share cannot be made on the host side.
      await guest.exec(['sh', '-c', `ln /etc/passwd ${join(shareDir, 'hardlink')} 2>/dev/null; true`])
      // Device nodes made in a share are not device nodes on the host (no capabilities there).
      await guest.exec([
        'sh',
        '-c',
        `mknod ${join(shareDir, 'disk')} b 8 0 2>/dev/null; mknod ${join(shareDir, 'mem')} c 1 1 2>/dev/null; true`,
      ])
      // The read-only project cannot be written, by any path to it.
      const project = await guest.exec([
        'sh',
        '-c',
        `echo changed > ${join(readOnlyDir, 'project.txt')}; echo new > ${join(readOnlyDir, 'new.txt')}; mount -o remount,rw ${readOnlyDir} 2>&1; echo changed > ${join(readOnlyDir, 'project.txt')}`,
      ])
      expect(project.exitCode).not.toBe(0)
      // Through the sandbox's /proc the guest sees only the sandbox's own processes, not the host's.
      const sandboxProc = await guest.exec([
        'sh',
        '-c',
        'mkdir -p /p; mount -t hostfs -o hostfs=/proc none /p 2>/dev/null || mount -t hostfs -o /proc none /p; ls /p; umount /p',
      ])
      const sandboxPids = sandboxProc.stdout.split('\n').filter((entry) => /^\d+$/.test(entry))
      const hostPids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))
      expect(sandboxPids.length).toBeGreaterThan(0)
      expect(sandboxPids.length).toBeLessThan(hostPids.length)
      expect(sandboxPids).toContain('1')
    } finally {
      await guest.dispose()
    }
    expect(await readFile(canary, 'utf8')).toBe(secret)
    expect(await readFile(join(readOnlyDir, 'project.txt'), 'utf8')).toBe('original')
    expect(await readdir(readOnlyDir)).toEqual(['project.txt'])
    for (const name of ['hardlink', 'disk', 'mem']) {
      const info = await lstat(join(shareDir, name)).catch(() => undefined)
      expect(info === undefined || info.isFile(), name).toBe(true)
      if (info?.isFile()) expect(info.nlink, name).toBe(1)
    }
  })

  it('lets guest root load kernel modules, address the mconsole and read process environments, and still gives it nothing of the host', async () => {
    const canary = join(canaryDir, 'canary.txt')
    // A secret in the environment of the host process that starts the guest.
    process.env.VITEST_UML_JAIL_SECRET = secret
    const guest = await bootGuest({ kernel }).finally(() => {
      delete process.env.VITEST_UML_JAIL_SECRET
    })
    try {
      const result = await guest.exec(['sh', '-c', kernelLevelAttack(canary)])
      expectKernelLevelAttackFailed(result.stdout, secret)
      // The UML process itself was started with a cleared environment.
      const umlProcesses = listUmlProcesses()
      expect(umlProcesses.length).toBeGreaterThan(0)
      for (const entry of umlProcesses) {
        const environ = (await readFile(`/proc/${entry.split(' ')[0]}/environ`, 'utf8')).split('\0')
        expect(environ).toContain('TMPDIR=/tmp')
        expect(environ.join('\n')).not.toContain(secret)
      }
    } finally {
      await guest.dispose()
    }
    expect(await readFile(canary, 'utf8')).toBe(secret)
  })

  it('confines code that takes the UML process’s place: it finds only what the guest was given', async () => {
    const canary = join(canaryDir, 'canary.txt')
    const options = parseGuestOptions(await guestOptions({ kernel, shares: [{ hostPath: shareDir, writable: true }] }))
    const script = `
      const fs = require('node:fs')
      const seen = { root: fs.readdirSync('/').sort() }
      for (const path of [${JSON.stringify(canary)}, '/etc/passwd', '/home', '/root']) {
        try { seen[path] = fs.readdirSync(path) } catch (error) {
          try { seen[path] = fs.readFileSync(path, 'utf8') } catch (error) { seen[path] = error.code }
        }
      }
      try { fs.writeFileSync('${'/run/vitest-uml/image.ext4'}', 'x'); seen.image = 'written' } catch (error) { seen.image = error.code }
      require('node:net').connect(80, '1.1.1.1').on('error', (error) => {
        seen.network = error.code
        console.log(JSON.stringify(seen))
      })
    `
    const bwrap = await findHostTool('bwrap')
    const result = await execa(bwrap ?? 'bwrap', [
      ...(await guestSandboxArgs(options)),
      '--',
      `${SANDBOX_NODE_DIR}/bin/node`,
      '-e',
      script,
    ])
    const seen = JSON.parse(result.stdout)
    expect(seen.root).toEqual(['dev', 'disk', 'proc', 'run', 'shares', 'tmp'])
    for (const path of [canary, '/etc/passwd', '/home', '/root']) expect(seen[path], path).toBe('ENOENT')
    expect(seen.image).toBe('EROFS')
    expect(seen.network).toBe('ENETUNREACH')
  })
})
