/*
 * What the freestanding programs vitest-uml runs in guests (session.c, boot-mounts.c) share: their
 * entry point, the system calls they make, how they report a failure. No C library, so they run
 * on any userland; built with -fno-tree-loop-distribute-patterns, so gcc does not turn their loops
 * into calls to a memset or strlen no library provides. A program defines PROGRAM (its name in
 * messages) before it includes this, and program_main.
 */
#ifndef VITEST_UML_GUEST_PROGRAM_H
#define VITEST_UML_GUEST_PROGRAM_H
#include <stddef.h>
#include <stdint.h>
#include "raw-syscall.h"

#define SYS_READ 0
#define SYS_WRITE 1
#define SYS_OPEN 2
#define SYS_CLOSE 3
#define SYS_RT_SIGPROCMASK 14
#define SYS_FORK 57
#define SYS_EXECVE 59
#define SYS_EXIT_GROUP 231
#define SYS_WAIT4 61
#define SYS_KILL 62
#define SYS_CHDIR 80
#define SYS_MKDIR 83
#define SYS_SYMLINK 88
#define SYS_SETRESUID 117
#define SYS_SETRESGID 119
#define SYS_SETGROUPS 116
#define SYS_PIVOT_ROOT 155
#define SYS_PRCTL 157
#define SYS_MOUNT 165
#define SYS_UMOUNT2 166
#define SYS_SETHOSTNAME 170
#define SYS_NEWFSTATAT 262
#define SYS_UNSHARE 272
#define SYS_SIGNALFD4 289

#define O_RDONLY 0
#define O_WRONLY 1
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_CLOEXEC 02000000
#define AT_FDCWD (-100)
#define S_IFMT 0170000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define EINTR 4
#define EEXIST 17
#define ENOENT 2
#define EACCES 13
#define ENOTDIR 20
#define MS_RDONLY 1
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_BIND 4096
#define MS_REC 16384
#define MS_PRIVATE (1 << 18)
#define MNT_DETACH 2
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWPID 0x20000000
#define SIGINT 2
#define SIGKILL 9
#define SIGTERM 15
#define SIGCHLD 17
#define SIG_BLOCK 0
#define SIG_SETMASK 2
#define SFD_CLOEXEC O_CLOEXEC
#define PR_SET_PDEATHSIG 1
#define WNOHANG 1

/* The pristine image (the read-only second disk), where the runtime's init mounts it. */
#define BASE "/run/vitest-uml-base"
/* Exit status of a program that failed before it did its job. */
#define SETUP_FAILED 125
/* The longest path the programs build. */
#define PATH_BYTES 4096

struct kstat {
  uint64_t dev, ino, nlink;
  uint32_t mode, uid, gid, pad;
  uint64_t rdev;
  int64_t size, blksize, blocks;
  uint64_t times[6];
  int64_t unused[3];
};

static char **environ;

static inline size_t length_of(const char *text) {
  size_t n = 0;
  while (text[n]) n++;
  return n;
}

static inline int starts_with(const char *text, const char *prefix) {
  while (*prefix)
    if (*text++ != *prefix++) return 0;
  return 1;
}

static inline int same(const char *a, const char *b) { return starts_with(a, b) && length_of(a) == length_of(b); }

static inline void say(const char *text) { sys3(SYS_WRITE, 2, (long)text, (long)length_of(text)); }

__attribute__((noreturn)) static inline void leave(int status) {
  for (;;) sys3(SYS_EXIT_GROUP, status, 0, 0);
}

static inline const char *error_name(long error) {
  static const char *const names[] = {
      [1] = "EPERM",  [2] = "ENOENT", [5] = "EIO",     [12] = "ENOMEM", [13] = "EACCES", [16] = "EBUSY",
      [17] = "EEXIST", [19] = "ENODEV", [20] = "ENOTDIR", [21] = "EISDIR", [22] = "EINVAL", [28] = "ENOSPC",
      [30] = "EROFS", [36] = "ENAMETOOLONG", [40] = "ELOOP"};
  long n = -error;
  return n > 0 && n < (long)(sizeof names / sizeof names[0]) && names[n] ? names[n] : "an error";
}

/* Reports what failed, on what, and the kernel's answer, as "vitest-uml: PROGRAM: ...". */
static inline void complain(const char *what, const char *path, long error) {
  say("vitest-uml: " PROGRAM ": ");
  say(what);
  if (path) {
    say(" ");
    say(path);
  }
  if (error) {
    say(": ");
    say(error_name(error));
  }
  say("\n");
}

/* Stops the program before it has done its job (before a session's program runs). */
__attribute__((noreturn)) static inline void fail(const char *what, const char *path, long error) {
  complain(what, path, error);
  leave(SETUP_FAILED);
}

static inline long must(long result, const char *what, const char *path) {
  if (result < 0) fail(what, path, result);
  return result;
}

/* Whether a path is there and of a type (S_IFREG, S_IFBLK...), following links. */
static inline int is_a(const char *path, uint32_t type) {
  struct kstat st;
  return sys5(SYS_NEWFSTATAT, AT_FDCWD, (long)path, (long)&st, 0, 0) == 0 && (st.mode & S_IFMT) == type;
}

/* Makes a directory: 0 if it is made or was there, else the kernel's error. */
static inline long new_dir(const char *path) {
  long r = sys3(SYS_MKDIR, (long)path, 0755, 0);
  return r == -EEXIST ? 0 : r;
}

static inline void make_dir(const char *path) { must(new_dir(path), "mkdir", path); }

static inline void mount_fs(const char *source, const char *target, const char *type, long flags, const char *data) {
  must(sys5(SYS_MOUNT, (long)source, (long)target, (long)type, flags, (long)data), "mount on", target);
}

/* Writes the pieces one after another into `out` (PATH_BYTES long), as one string. */
static inline char *concat(char *out, const char *const parts[]) {
  size_t n = 0;
  for (; *parts; parts++) {
    for (const char *p = *parts; *p; p++) {
      if (n + 1 >= PATH_BYTES) fail("path too long:", parts[0], 0);
      out[n++] = *p;
    }
  }
  out[n] = 0;
  return out;
}
#define JOIN(out, ...) concat(out, (const char *const[]){__VA_ARGS__, 0})

/* Reads a whole (small) file into a static buffer, NUL-terminated; 0 if it cannot be read. */
static inline char *read_file(const char *path, char *buffer, size_t size) {
  long fd = sys3(SYS_OPEN, (long)path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return 0;
  size_t n = 0;
  for (long got; n + 1 < size && (got = sys3(SYS_READ, fd, (long)buffer + n, (long)(size - 1 - n))) > 0;) n += got;
  sys3(SYS_CLOSE, fd, 0, 0);
  if (n + 1 >= size) fail("too large to read:", path, 0);
  buffer[n] = 0;
  return buffer;
}

/* Sets the hostname from the first line of a file (the image's /etc/hostname), if it has one. */
static inline void set_hostname_from(const char *path) {
  static char hostname[256];
  if (!read_file(path, hostname, sizeof hostname)) return;
  size_t n = 0;
  while (hostname[n] && hostname[n] != '\n') n++;
  if (n > 0) must(sys3(SYS_SETHOSTNAME, (long)hostname, (long)n, 0), "sethostname", 0);
}

static int program_main(int argc, char **argv);

__attribute__((used)) static void start(long *stack) {
  int argc = (int)stack[0];
  char **argv = (char **)(stack + 1);
  environ = argv + argc + 1;
  leave(program_main(argc, argv));
}

__asm__(".text\n.global _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call start\n  hlt\n");

#endif
