import { chmod, lstat, mkdir, readFile, realpath, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join, sep } from 'node:path'
import { GUEST_INIT_STUB, GUEST_INIT_STUB_PATH } from './guest-init-stub.js'
import { type RootfsIndex, resolveInRootfs } from './rootfs-index.js'

/**
 * The kernel mounts devtmpfs on /dev, the init stub /proc, the runtime's init /sys and a tmpfs on
 * /tmp: all must exist, and minimal container images may lack some.
 */
const MOUNT_POINTS = ['dev', 'proc', 'sys', 'tmp']

/** Every guest's host name (init sets it from /etc/hostname). */
export const GUEST_HOSTNAME = 'vitest-uml'

/** Debian's way to make the host name resolve without a network. */
const HOST_LINE = `127.0.1.1\t${GUEST_HOSTNAME}`

/** Debian's /etc/hosts: `localhost` resolves over IPv4 and IPv6, and so does the host name. */
const ETC_HOSTS = `127.0.0.1\tlocalhost
${HOST_LINE}

# The following lines are desirable for IPv6 capable hosts
::1\tlocalhost ip6-localhost ip6-loopback
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`

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
  const etc = await ensureDir(staging, index, 'etc')
  // mmdebstrap copies the building host's name, container exports leave it empty: a guest's own.
  await replaceFile(join(etc, 'hostname'), `${GUEST_HOSTNAME}\n`)
  // Container exports leave /etc/hosts empty (the runtime fills it), minbase has none and netbase's
  // does not name the host.
  const hosts = await readRegularFile(join(etc, 'hosts'))
  if (hosts.trim() === '') await replaceFile(join(etc, 'hosts'), ETC_HOSTS)
  else if (!namesHost(hosts)) await replaceFile(join(etc, 'hosts'), `${hosts.replace(/\n?$/, '\n')}${HOST_LINE}\n`)
}

/** Whether an /etc/hosts text has an entry for the guest's host name. */
function namesHost(hosts: string): boolean {
  return hosts.split('\n').some((line) => line.replace(/#.*/, '').trim().split(/\s+/).slice(1).includes(GUEST_HOSTNAME))
}

/** A regular file's text; '' for anything else, so a symlink in the tree never reads a host file. */
async function readRegularFile(path: string): Promise<string> {
  const info = await lstat(path).catch(() => undefined)
  return info?.isFile() ? readFile(path, 'utf8') : ''
}

/** Writes a regular file (0644) in place of whatever is there, a symlink included, never through it. */
async function replaceFile(path: string, content: string): Promise<void> {
  await rm(path, { force: true })
  await writeFile(path, content, { mode: 0o644, flag: 'wx' })
  await chmod(path, 0o644)
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
