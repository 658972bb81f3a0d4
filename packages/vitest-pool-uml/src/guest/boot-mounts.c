/*
 * Makes the mounts, directories and /dev links every guest has, and its hostname, as init.sh's
 * first step: sysfs, devpts, /dev/shm and /tmp, the links devtmpfs lacks (/dev/fd, /dev/stdin,
 * /dev/stdout, /dev/stderr), the image's /etc/hostname, and the pristine image (the read-only
 * second disk, /dev/ubdb, if the guest has one) at /run/vitest-uml-base. Then it loads the modules
 * the guest's later mounts and network need where the kernel has them as modules: overlay
 * (copy-on-write shares, sessions) and ipv6 (older Debian kernels).
 *
 * A program of its own rather than shell commands: in a guest every fork and exec costs 20-25 ms,
 * and these were about ten of them (boot to ready 1,100 -> 955 ms). Like the commands it replaces,
 * it goes on past a mount that fails (only the pristine image's failure is reported: without it,
 * sessions say they cannot run).
 */
#define PROGRAM "boot"
#include "guest-program.h"
#include "load-modules.h"

static void dir_if_missing(const char *path) {
  long r = new_dir(path);
  if (r < 0) complain("cannot make the directory", path, r);
}

static void link_if_missing(const char *target, const char *path) {
  long r = sys3(SYS_SYMLINK, (long)target, (long)path, 0);
  if (r < 0 && r != -EEXIST) complain("cannot link", path, r);
}

static int program_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  int has_base = is_a("/dev/ubdb", S_IFBLK);
  sys5(SYS_MOUNT, (long)"sysfs", (long)"/sys", (long)"sysfs", 0, 0);
  dir_if_missing("/dev/pts");
  dir_if_missing("/dev/shm");
  sys5(SYS_MOUNT, (long)"devpts", (long)"/dev/pts", (long)"devpts", 0, (long)"gid=5,mode=620,ptmxmode=666");
  sys5(SYS_MOUNT, (long)"tmpfs", (long)"/dev/shm", (long)"tmpfs", MS_NOSUID | MS_NODEV, 0);
  link_if_missing("/proc/self/fd", "/dev/fd");
  link_if_missing("/proc/self/fd/0", "/dev/stdin");
  link_if_missing("/proc/self/fd/1", "/dev/stdout");
  link_if_missing("/proc/self/fd/2", "/dev/stderr");
  sys5(SYS_MOUNT, (long)"tmpfs", (long)"/tmp", (long)"tmpfs", MS_NOSUID | MS_NODEV, (long)"mode=1777");
  if (has_base) {
    dir_if_missing(BASE);
    long r = sys5(SYS_MOUNT, (long)"/dev/ubdb", (long)BASE, (long)"ext4", MS_RDONLY, 0);
    if (r < 0) complain("cannot mount the pristine image on", BASE, r);
  }
  /* Images carry /etc/hostname (and /etc/hosts to match): see src/host/images/guest-files.ts. */
  set_hostname_from("/etc/hostname");
  load_modules((const char *const[]){"ipv6", "overlay", 0});
  return 0;
}
