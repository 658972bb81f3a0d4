/** One Kconfig option of the default guest config. */
export interface GuestConfigOption {
  /** Without the CONFIG_ prefix. */
  name: string
  /** `y`, `n`, a number or a quoted string, as in a .config. */
  value: string
  /** Why guests want it: shown when a build loses it. */
  why: string
  /**
   * Guests cannot do without it: a build whose final .config lacks it fails. The others are
   * defaults a fragment may change (or that an older kernel may not know).
   */
  required?: true
}

/**
 * The small default config of kernels built for guests, before the user's fragment: what the
 * runtime (agent, hostfs shares, ubd disks, serial lines) and Debian userlands need, the network
 * driver guests use, and time travel. Everything else keeps Kconfig's default; no modules.
 */
export const GUEST_CONFIG: readonly GuestConfigOption[] = [
  { name: 'MODULES', value: 'n', why: 'everything guests need is built in; `modules: true` turns it on' },
  { name: 'HOSTFS', value: 'y', why: 'the guest runtime and shares are hostfs mounts', required: true },
  { name: 'BLK_DEV', value: 'y', why: 'block devices', required: true },
  { name: 'BLK_DEV_UBD', value: 'y', why: 'the root disk and the pristine image are ubd devices', required: true },
  { name: 'EXT4_FS', value: 'y', why: 'images are ext4', required: true },
  { name: 'OVERLAY_FS', value: 'y', why: 'overlay mounts in guests, built in', required: true },
  { name: 'TMPFS', value: 'y', why: '/tmp, /run and /dev/shm', required: true },
  { name: 'PROC_FS', value: 'y', why: '/proc', required: true },
  { name: 'SYSFS', value: 'y', why: '/sys', required: true },
  { name: 'DEVTMPFS', value: 'y', why: '/dev', required: true },
  { name: 'DEVTMPFS_MOUNT', value: 'y', why: '/dev mounted before init runs', required: true },
  { name: 'UNIX98_PTYS', value: 'y', why: '/dev/pts for shells and terminals', required: true },
  { name: 'SSL', value: 'y', why: 'the serial line that carries the host channel', required: true },
  { name: 'NULL_CHAN', value: 'y', why: 'unused consoles and lines go to null', required: true },
  { name: 'CON_CHAN', value: '"null"', why: 'no xterm for consoles not named on the command line' },
  { name: 'SSL_CHAN', value: '"null"', why: 'no xterm for serial lines not named on the command line' },
  { name: 'XTERM_CHAN', value: 'n', why: 'guests never open xterms' },
  { name: 'STDERR_CONSOLE', value: 'y', why: 'kernel messages on the captured console', required: true },
  { name: 'MCONSOLE', value: 'y', why: 'needed by MAGIC_SYSRQ on UML', required: true },
  { name: 'MAGIC_SYSRQ', value: 'y', why: 'guests power off through /proc/sysrq-trigger', required: true },
  { name: 'BINFMT_ELF', value: 'y', why: 'running programs', required: true },
  { name: 'BINFMT_SCRIPT', value: 'y', why: 'running #! scripts (the init stub is one)', required: true },
  { name: 'MULTIUSER', value: 'y', why: 'users other than root (the `user` option)', required: true },
  { name: 'FUTEX', value: 'y', why: 'threads (Node, glibc)', required: true },
  { name: 'EPOLL', value: 'y', why: "Node's event loop", required: true },
  { name: 'EVENTFD', value: 'y', why: "Node's event loop", required: true },
  { name: 'SIGNALFD', value: 'y', why: 'systemd-style tools' },
  { name: 'TIMERFD', value: 'y', why: 'timers of systemd-style tools' },
  { name: 'SHMEM', value: 'y', why: 'shared memory, tmpfs', required: true },
  { name: 'FILE_LOCKING', value: 'y', why: 'dpkg and apt lock their files', required: true },
  { name: 'INOTIFY_USER', value: 'y', why: 'file watching (fs.watch)' },
  { name: 'FHANDLE', value: 'y', why: 'name_to_handle_at, used by systemd tools' },
  { name: 'AIO', value: 'y', why: 'POSIX AIO users' },
  { name: 'SYSVIPC', value: 'y', why: 'System V IPC, used by databases' },
  { name: 'POSIX_MQUEUE', value: 'y', why: 'POSIX message queues' },
  { name: 'NET', value: 'y', why: 'sockets', required: true },
  { name: 'UNIX', value: 'y', why: "Unix sockets carry the test worker's IPC channel", required: true },
  { name: 'INET', value: 'y', why: 'TCP/IP over loopback', required: true },
  { name: 'IPV6', value: 'y', why: '::1, which localhost resolves to first on Debian' },
  { name: 'PACKET', value: 'y', why: 'raw packet sockets (DHCP clients, tcpdump)' },
  { name: 'NETDEVICES', value: 'y', why: 'network devices' },
  { name: 'UML_NET', value: 'y', why: 'the UML network menu, which older kernels put the vector driver under' },
  { name: 'UML_NET_VECTOR', value: 'y', why: 'the vector network driver guests network with', required: true },
  { name: 'NAMESPACES', value: 'y', why: 'unshare and containers in guests' },
  { name: 'USER_NS', value: 'y', why: 'unprivileged containers in guests' },
  { name: 'PID_NS', value: 'y', why: 'unshare --pid' },
  { name: 'NET_NS', value: 'y', why: 'unshare --net' },
  { name: 'CGROUPS', value: 'y', why: 'cgroup-aware tools' },
  { name: 'SECCOMP', value: 'y', why: 'guest programs that filter their own system calls' },
  { name: 'SECCOMP_FILTER', value: 'y', why: 'guest programs that filter their own system calls' },
  { name: 'IKCONFIG', value: 'y', why: 'the config inside the kernel' },
  { name: 'IKCONFIG_PROC', value: 'y', why: '/proc/config.gz, to see what a guest kernel has' },
  { name: 'NO_HZ_IDLE', value: 'y', why: 'no timer tick while idle, so idle guests cost no CPU' },
  { name: 'HIGH_RES_TIMERS', value: 'y', why: 'precise sleeps' },
  {
    name: 'UML_TIME_TRAVEL_SUPPORT',
    value: 'y',
    why: "`time: 'virtual'` (UML's time-travel mode)",
    required: true,
  },
  {
    name: 'RAID6_PQ_BENCHMARK',
    value: 'n',
    why: 'a busy loop at every boot, and time travel depends on its absence',
  },
]

/** The default guest config as .config lines. */
export function guestConfigLines(): string[] {
  return GUEST_CONFIG.map((option) => formatOption(option.name, option.value))
}

/** A .config line: `CONFIG_X=y`, or `# CONFIG_X is not set` for n. */
export function formatOption(name: string, value: string): string {
  return value === 'n' ? `# CONFIG_${name} is not set` : `CONFIG_${name}=${value}`
}
