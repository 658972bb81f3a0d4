import { chmod, mkdir, realpath, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, sep } from 'node:path'
import { GUEST_INIT_STUB, GUEST_INIT_STUB_PATH } from './guest-init-stub.js'
import { type RootfsIndex, resolveInRootfs } from './rootfs-index.js'

/** The kernel mounts devtmpfs on /dev and the init stub mounts /proc: both must exist. */
const MOUNT_POINTS = ['dev', 'proc']

/**
 * Adds what every guest needs to an extracted root file system: the init stub (0755, owned by
 * whoever runs this, which is root on the host or inside the id-mapping namespace) and mount
 * points. Paths are resolved through the tarball's index, so a symlink such as `/sbin ->
 * /usr/sbin` leads into the staging tree and never to the host's own directories.
 */
export async function addGuestFiles(staging: string, index: RootfsIndex): Promise<void> {
  for (const mountPoint of MOUNT_POINTS) await ensureDir(staging, index, mountPoint)
  const stubDir = await ensureDir(staging, index, dirname(GUEST_INIT_STUB_PATH))
  const stub = join(stubDir, basename(GUEST_INIT_STUB_PATH))
  await rm(stub, { force: true })
  await writeFile(stub, GUEST_INIT_STUB, { mode: 0o755, flag: 'wx' })
  await chmod(stub, 0o755)
}

async function ensureDir(staging: string, index: RootfsIndex, path: string): Promise<string> {
  const resolved = resolveInRootfs(index, path)
  if (resolved === undefined) throw new Error(`/${path} is a symlink loop`)
  const dir = join(staging, resolved)
  await mkdir(dir, { recursive: true, mode: 0o755 })
  const root = await realpath(staging)
  const real = await realpath(dir)
  if (real !== root && !real.startsWith(root + sep)) throw new Error(`/${path} leads outside the root file system`)
  return dir
}
