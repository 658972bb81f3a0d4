import { GUEST_INIT_STUB_PATH, SANDBOX_IMAGE_PATH } from '../core/index.js'

export interface KernelCommandLineOptions {
  memoryMiB: number
  imageWritable: boolean
  seccomp: boolean
  mode: 'agent' | 'shell'
  time: 'real' | 'virtual'
  /** The guest's init sets its clock to this date before anything else runs. */
  clock?: Date | undefined
  /** The kernel's delay-loop speed, so it need not calibrate it at boot (`hostLoopsPerJiffy`). */
  loopsPerJiffy?: number | undefined
}

/**
 * UML's time-travel mode for `time: 'virtual'`: the guest keeps its own clock, which jumps to the
 * next timer whenever the guest is idle.
 */
export const TIME_TRAVEL_ARG = 'time-travel'

/**
 * The guest's copy-on-write layer over the read-only image, on a tmpfs of its own inside the
 * sandbox (sized by the disk limit, apart from guest memory in /tmp): gone with the sandbox.
 */
export const SANDBOX_DISK_DIR = '/disk'
export const SANDBOX_COW_PATH = `${SANDBOX_DISK_DIR}/cow`

/**
 * The guest kernel's arguments. Every console and serial line is set, because unset ones open
 * xterms; con0 is the captured console (or the user's terminal for a shell), ssl1 the channel.
 * UML passes unknown `name=value` arguments to init as environment variables.
 */
export function buildKernelCommandLine(options: KernelCommandLineOptions): string[] {
  return [
    `mem=${options.memoryMiB}M`,
    ...(options.imageWritable
      ? [`ubd0=${SANDBOX_IMAGE_PATH}`]
      : // The pristine image again, read-only, so tests can ask what changed on the disk since boot.
        [`ubd0=${SANDBOX_COW_PATH},${SANDBOX_IMAGE_PATH}`, `ubd1r=${SANDBOX_IMAGE_PATH}`]),
    'root=/dev/ubda',
    // Images are made with lazy inode tables; zeroing them would cost every guest CPU and COW memory.
    'rootflags=noinit_itable',
    'rw',
    options.mode === 'shell' ? 'con0=fd:0,fd:1' : 'con0=null,fd:1',
    'con=null',
    'ssl=null',
    'ssl1=fd:3,fd:4',
    'umid=vitest-uml',
    'uml_dir=/tmp/uml',
    `init=${GUEST_INIT_STUB_PATH}`,
    'quiet',
    // Debian's kernels benchmark RAID-6 parity code at every boot (about 0.85 s of busy CPU of a
    // 1 s boot); only btrfs RAID5/6 and md RAID456 use it. Older kernels name the initcall
    // raid6_select_algo; an unknown name is ignored.
    'initcall_blacklist=raid6_init,raid6_select_algo',
    // Debian's kernels register 256 BSD-style ptys (/dev/ptyXX), which nothing uses since Unix98
    // ptys: 0.2 s of 7.2's boot, 20 ms of custom-7.2's. Kernels without them ignore the argument.
    'pty.legacy_count=0',
    // Tables sized by guest memory and written at boot, so paid for in host memory by every guest,
    // busy or idle: built-in JFS's transaction blocks and locks (5.9 MiB at 2 GiB; a guest that
    // mounts JFS still can, with fewer transactions at once), and the dentry and inode hashes (3
    // MiB at 2 GiB; these sizes keep chains short for a few hundred thousand files). Kernels
    // without JFS ignore its arguments.
    'jfs.nTxBlock=128',
    'jfs.nTxLock=1024',
    'dhash_entries=32768',
    'ihash_entries=16384',
    ...(options.loopsPerJiffy ? [`lpj=${options.loopsPerJiffy}`] : []),
    ...(options.seccomp ? ['seccomp=on'] : []),
    ...(options.time === 'virtual' ? [TIME_TRAVEL_ARG] : []),
    ...(options.clock ? [`vitest_uml_clock=${Math.floor(options.clock.getTime() / 1000)}`] : []),
    `vitest_uml_mode=${options.mode}`,
  ]
}
