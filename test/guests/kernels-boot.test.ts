import { describe, expect, it } from 'vitest'
import { getCacheDir, KERNEL_NAMES, resolveKernel } from 'vitest-pool-uml/api'
import { bootGuest } from '../helpers/boot-guest.js'

/** What init's first step (boot-mounts.c) makes in every guest, one line each. */
const BOOT_STATE = [
  'for target in /sys /dev/pts /dev/shm /tmp /run/vitest-uml-base; do',
  '  grep " $target " /proc/mounts | cut -d" " -f1,3,4 | cut -d, -f1-3',
  'done',
  'for link in fd stdin stdout stderr; do readlink /dev/$link; done',
  'hostname',
].join('\n')

describe.each(KERNEL_NAMES)('kernel %s', (name) => {
  it('boots the bookworm image with its mounts, /dev links and hostname, uname -r in the guest is that kernel, and the agent waits on io_uring where it can', async () => {
    const kernel = await resolveKernel(name, { cacheDir: getCacheDir() })
    const guest = await bootGuest({ kernel: name, image: 'debian-bookworm' })
    try {
      const result = await guest.exec(['uname', '-r'])
      expect(result.exitCode).toBe(0)
      expect(result.stdout.trim()).toBe(kernel.release)
      expect(kernel.release.startsWith(`${name}.`)).toBe(true)
      expect(guest.osRelease.VERSION_CODENAME).toBe('bookworm')
      const state = await guest.exec(['sh', '-c', BOOT_STATE])
      expect(state.stdout.trim().split('\n')).toEqual([
        'sysfs sysfs rw,relatime',
        'devpts devpts rw,relatime,gid=5',
        'tmpfs tmpfs rw,nosuid,nodev',
        'tmpfs tmpfs rw,nosuid,nodev',
        '/dev/ubdb ext4 ro,relatime',
        '/proc/self/fd',
        '/proc/self/fd/0',
        '/proc/self/fd/1',
        '/proc/self/fd/2',
        'vitest-uml',
      ])
      // Tables the kernel sizes by guest memory stay small (kernel-command-line.ts): the dentry and
      // inode hashes, and JFS's transaction tables where it is built in (vmalloc'd bytes).
      const tables = await guest.exec([
        'sh',
        '-c',
        [
          'dmesg | grep -o -e "Dentry cache hash table entries: [0-9]*" -e "Inode-cache hash table entries: [0-9]*"',
          'grep -c "\\sjfs$" /proc/filesystems',
          "awk '/txInit/ { s += $2 } END { print s + 0 }' /proc/vmallocinfo",
        ].join('; '),
      ])
      const [dentryHash, inodeHash, jfs, jfsTableBytes] = tables.stdout.trim().split('\n')
      expect([dentryHash, inodeHash]).toEqual([
        'Dentry cache hash table entries: 32768',
        'Inode-cache hash table entries: 16384',
      ])
      if (jfs === '1') expect(Number(jfsTableBytes)).toBeGreaterThan(0)
      expect(Number(jfsTableBytes)).toBeLessThan(256 * 1024)
      // overlayfs and IPv6, modules in Debian's kernels (IPv6 in the older ones), loaded at boot by
      // boot-mounts itself, whatever tools the image has.
      const modules = await guest.exec([
        'sh',
        '-c',
        'grep -c "\toverlay$" /proc/filesystems; test -e /proc/net/if_inet6 && echo ipv6',
      ])
      expect(modules.stdout.trim().split('\n')).toEqual(['1', 'ipv6'])
      // The agent (this command's parent) waits on an io_uring from Linux 6.1, on poll(2) before.
      const agentFds = await guest.exec(['sh', '-c', 'readlink /proc/$PPID/exe; ls -l /proc/$PPID/fd'])
      const [agentPath] = agentFds.stdout.split('\n')
      const [major = 0, minor = 0] = kernel.release.split('.').map(Number)
      expect(agentPath).toBe('/run/vitest-uml/agent/agent')
      expect(agentFds.stdout.includes('anon_inode:[io_uring]')).toBe(major > 6 || (major === 6 && minor >= 1))
    } finally {
      await guest.dispose()
    }
  })
})
