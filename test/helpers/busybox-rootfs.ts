import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'

/**
 * A root file system of nothing but Debian's static busybox (no libc, no /lib, no os-release),
 * in `<dir>/root`: every applet a symlink to /bin/busybox, and a passwd with root alone.
 */
export async function buildBusyboxRoot(dir: string): Promise<string> {
  await execa('apt-get', ['download', 'busybox-static'], { cwd: dir })
  const deb = (await readdir(dir)).find((name) => name.endsWith('.deb'))
  if (!deb) throw new Error('apt-get download busybox-static produced no .deb')
  const root = join(dir, 'root')
  await execa('dpkg-deb', ['-x', join(dir, deb), join(dir, 'package')])
  for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'run'])
    await mkdir(join(root, sub), { recursive: true })
  await execa('cp', [join(dir, 'package/bin/busybox'), join(root, 'bin/busybox')])
  const { stdout } = await execa(join(root, 'bin/busybox'), ['--list-full'])
  for (const applet of stdout.split('\n').filter(Boolean)) {
    if (applet !== 'bin/busybox') await symlink('/bin/busybox', join(root, applet)).catch(() => {})
  }
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n')
  return root
}
