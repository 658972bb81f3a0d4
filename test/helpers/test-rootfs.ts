import { chmod, chown, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'

/** Owner of a file in the test rootfs that is neither root nor the importing user. */
export const OTHER_ID = 42

/**
 * A tiny root file system tarball (made as root) shaped like a container export: absolute
 * `/sbin -> /usr/sbin`, a setuid root file, a file owned by 42:42, a device node and os-release
 * reached through a symlink.
 */
export async function makeTestRootfs(workDir: string, tarball: string): Promise<void> {
  const root = join(workDir, 'rootfs')
  await mkdir(join(root, 'usr/bin'), { recursive: true })
  await mkdir(join(root, 'usr/sbin'))
  await mkdir(join(root, 'usr/lib'))
  await mkdir(join(root, 'etc'))
  await mkdir(join(root, 'dev'))
  await symlink('usr/bin', join(root, 'bin'))
  await symlink('/usr/sbin', join(root, 'sbin'))
  await copyFile('/bin/dash', join(root, 'usr/bin/dash'))
  await symlink('dash', join(root, 'usr/bin/sh'))
  // What a guest runs from the image besides sh (see GUEST_TOOLS): only their presence is checked here.
  for (const tool of ['mount', 'mkdir']) await copyFile(`/bin/${tool}`, join(root, 'usr/bin', tool))
  await copyFile('/bin/dash', join(root, 'usr/bin/setuid-tool'))
  await chmod(join(root, 'usr/bin/setuid-tool'), 0o4755)
  await writeFile(join(root, 'etc/secret'), 'not for everyone\n')
  await chown(join(root, 'etc/secret'), OTHER_ID, OTHER_ID)
  await chmod(join(root, 'etc/secret'), 0o640)
  await writeFile(join(root, 'usr/lib/os-release'), 'ID=testos\nPRETTY_NAME="Test OS \\"tiny\\""\n')
  await symlink('../usr/lib/os-release', join(root, 'etc/os-release'))
  await execa('mknod', [join(root, 'dev/null'), 'c', '1', '3'])
  await execa('tar', ['--create', '--numeric-owner', `--file=${tarball}`, `--directory=${root}`, '.'])
}
