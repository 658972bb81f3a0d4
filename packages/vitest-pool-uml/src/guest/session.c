/*
 * Runs a program in a fresh session of an already booted guest: new mount, PID, UTS and IPC
 * namespaces, and a root file system that is the pristine image (the read-only second disk, which
 * the runtime's init mounts at /run/vitest-uml-base) under a fresh, empty upper layer. The guest's
 * mounts are made again in it as a fresh guest has them: the hostfs shares bound in, each
 * copy-on-write share under an upper layer of its own, files the guest binds over the image
 * (/etc/hosts, /etc/resolv.conf) copied. The upper layers live in DIR, on the guest's disk (they
 * count against its disk limit, as a fresh guest's writes do), which the agent makes empty and
 * removes once the session is over. The session ends with its program: every process it left goes
 * with it, and so do its mounts and everything it wrote.
 *   session DIR CWD UID GID PROGRAM [ARGS...]      (UID GID: numbers; 0 0 for root)
 * The agent starts it with the program's environment (and a forked Node's IPC descriptor).
 *
 * A program of its own rather than a shell script: in a guest every fork and exec costs 10-30 ms,
 * and the script's thirty-odd commands (unshare, awk, mount, setpriv...) took 0.7 s of guest CPU
 * per test file. Freestanding (guest-program.h), so it runs on any userland, busybox and musl too.
 */
#define PROGRAM "session"
#include "guest-program.h"
#include "guest-paths.h"
#include "load-modules.h"

/* Exit statuses of a program that could not be run, as a shell has them. */
#define CANNOT_RUN 126
#define NOT_FOUND 127

static void make_dirs(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    make_dir(path);
    *p = '/';
  }
  make_dir(path);
}

static void copy_file(const char *from, const char *to) {
  struct kstat st;
  must(sys5(SYS_NEWFSTATAT, AT_FDCWD, (long)from, (long)&st, 0, 0), "stat", from);
  long in = must(sys3(SYS_OPEN, (long)from, O_RDONLY | O_CLOEXEC, 0), "open", from);
  long out = must(sys3(SYS_OPEN, (long)to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.mode & 07777), "create", to);
  static char buffer[65536];
  for (;;) {
    long n = must(sys3(SYS_READ, in, (long)buffer, sizeof buffer), "read", from);
    if (n == 0) break;
    for (long done = 0; done < n;) done += must(sys3(SYS_WRITE, out, (long)buffer + done, n - done), "write", to);
  }
  sys3(SYS_CLOSE, in, 0, 0);
  sys3(SYS_CLOSE, out, 0, 0);
}

/* Splits the next space-separated field of a mountinfo line off `*line`, undoing its \NNN escapes. */
static char *field(char **line) {
  char *start = *line, *out = start, *p = start;
  while (*p && *p != ' ' && *p != '\n') {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
      *out++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 4;
    } else {
      *out++ = *p++;
    }
  }
  if (*p == ' ') p++;
  *line = p;
  *out = 0;
  return start;
}

static long parse_number(const char *text) {
  long n = 0;
  if (!*text) fail("not a number:", text, 0);
  for (const char *p = text; *p; p++) {
    if (*p < '0' || *p > '9' || n > 0x7fffffff) fail("not a number:", text, 0);
    n = n * 10 + (*p - '0');
  }
  return n;
}

/* One mount of the guest's, as it stands before the session adds its own. */
struct guest_mount {
  char *target;
  char *type;
  /* For a copy-on-write share, the hostfs mount under its overlay (its lowerdir). */
  char *lower;
};

#define MAX_MOUNTS 512
static struct guest_mount mounts[MAX_MOUNTS];
static char mountinfo[262144];

/* The guest's mounts from /proc/self/mountinfo, in the order it made them; how many. */
static int read_mounts(void) {
  if (!read_file("/proc/self/mountinfo", mountinfo, sizeof mountinfo)) fail("cannot read", "/proc/self/mountinfo", 0);
  int count = 0;
  for (char *line = mountinfo; *line;) {
    if (count == MAX_MOUNTS) fail("too many mounts to make again in a session, in", "/proc/self/mountinfo", 0);
    char *end = line;
    while (*end && *end != '\n') end++;
    char *next = *end ? end + 1 : end;
    *end = 0;
    /* id parent dev root target options [optional fields...] - type source super-options */
    for (int i = 0; i < 4; i++) field(&line);
    struct guest_mount *m = &mounts[count++];
    m->target = field(&line);
    field(&line);
    while (*line && !same(field(&line), "-")) {
    }
    m->type = field(&line);
    field(&line);
    char *options = field(&line);
    m->lower = 0;
    for (char *o = options; *o; o++) {
      if (starts_with(o, "lowerdir=" LOWER_PREFIX) && (o == options || o[-1] == ',')) {
        m->lower = o + 9;
        char *digits = m->lower + sizeof LOWER_PREFIX - 1;
        while (*digits >= '0' && *digits <= '9') digits++;
        *digits = 0;
        break;
      }
    }
    line = next;
  }
  return count;
}

static int mounted_at(int count, const char *target) {
  for (int i = 0; i < count; i++)
    if (same(mounts[i].target, target)) return 1;
  return 0;
}

static int has_overlay(void) {
  static char filesystems[16384];
  char *text = read_file("/proc/filesystems", filesystems, sizeof filesystems);
  for (char *p = text; p && *p; p++)
    if (starts_with(p, "\toverlay\n")) return 1;
  return 0;
}

static int status_of(int wait_status) {
  int signal = wait_status & 0x7f;
  return signal ? 128 + signal : (wait_status >> 8) & 0xff;
}

/* overlay may be a module (Debian's kernels), which init loads: here if that failed. */
static void need_overlay(void) {
  if (has_overlay()) return;
  load_modules((const char *const[]){"overlay", 0});
  if (!has_overlay()) {
    say("vitest-uml: sessions need overlayfs, which this guest kernel lacks\n");
    leave(SETUP_FAILED);
  }
}

/* "N" for the session's Nth share. */
static const char *share_name(int n) {
  static char name[12];
  int digits = 0;
  for (int k = n; k; k /= 10) digits++;
  name[digits] = 0;
  for (int k = n; k; k /= 10) name[--digits] = (char)('0' + k % 10);
  return name;
}

/* The session's root: the pristine image under DIR's upper layer, the guest's mounts made again. */
static void make_root(const char *dir, const char *root) {
  static char a[PATH_BYTES], b[PATH_BYTES], c[PATH_BYTES], options[PATH_BYTES];
  int count = read_mounts();
  if (!mounted_at(count, BASE)) {
    say("vitest-uml: no pristine image at " BASE " to start a session from (a guest booted from a writable image has none)\n");
    leave(SETUP_FAILED);
  }
  make_dir(JOIN(a, dir, "/upper"));
  make_dir(JOIN(a, dir, "/work"));
  make_dir(root);
  make_dir(JOIN(a, dir, "/shares"));
  mount_fs("overlay", root, "overlay", 0, JOIN(options, "lowerdir=" BASE ",upperdir=", dir, "/upper,workdir=", dir, "/work"));
  mount_fs("proc", JOIN(a, root, "/proc"), "proc", 0, 0);
  mount_fs("/sys", JOIN(a, root, "/sys"), 0, MS_BIND | MS_REC, 0);
  mount_fs("/dev", JOIN(a, root, "/dev"), 0, MS_BIND | MS_REC, 0);
  mount_fs("session-shm", JOIN(a, root, "/dev/shm"), "tmpfs", MS_NOSUID | MS_NODEV, 0);
  mount_fs("session-tmp", JOIN(a, root, "/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount_fs("session-run", JOIN(a, root, "/run"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  make_dirs(JOIN(a, root, BASE));
  mount_fs(BASE, a, 0, MS_BIND, 0);
  int share = 0;
  for (int i = 0; i < count; i++) {
    const struct guest_mount *m = &mounts[i];
    char *target = JOIN(a, root, m->target);
    if (same(m->type, "hostfs")) {
      make_dirs(target);
      mount_fs(m->target, target, 0, MS_BIND | MS_REC, 0);
    } else if (same(m->type, "overlay") && m->lower) {
      /* Each session writes to a copy-on-write share through an upper layer of its own. */
      char *upper = JOIN(b, dir, "/shares/", share_name(++share));
      make_dirs(JOIN(c, upper, "/upper"));
      make_dirs(JOIN(c, upper, "/work"));
      make_dirs(target);
      mount_fs("overlay", target, "overlay", 0,
               JOIN(options, "lowerdir=", m->lower, ",upperdir=", upper, "/upper,workdir=", upper, "/work"));
    } else if (!same(m->target, "/") && is_a(m->target, S_IFREG)) {
      /* A file bound over the image: the session gets a copy of its own at the same path. */
      char *copy = JOIN(b, dir, "/shares/", share_name(++share), ".file");
      copy_file(m->target, copy);
      if (!is_a(target, S_IFREG)) {
        long fd = must(sys3(SYS_OPEN, (long)target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), "create", target);
        sys3(SYS_CLOSE, fd, 0, 0);
      }
      mount_fs(copy, target, 0, MS_BIND, 0);
    }
  }
}

/* Runs PROGRAM as execvp does: a name without a slash is looked for in PATH. Returns only on failure. */
static void run_program(char *const argv[]) {
  const char *name = argv[0];
  long error = -ENOENT;
  for (const char *p = name; *p; p++) {
    if (*p == '/') {
      error = sys3(SYS_EXECVE, (long)name, (long)argv, (long)environ);
      goto failed;
    }
  }
  {
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (char **e = environ; *e; e++)
      if (starts_with(*e, "PATH=")) path = *e + 5;
    static char candidate[PATH_BYTES];
    for (const char *dir = path;; dir++) {
      const char *end = dir;
      while (*end && *end != ':') end++;
      size_t n = (size_t)(end - dir);
      if (n + length_of(name) + 2 < PATH_BYTES) {
        for (size_t i = 0; i < n; i++) candidate[i] = dir[i];
        if (n == 0) candidate[n++] = '.';
        candidate[n++] = '/';
        JOIN(candidate + n, name);
        long r = sys3(SYS_EXECVE, (long)candidate, (long)argv, (long)environ);
        /* A match that cannot be run is the answer unless a later one can. */
        if (r != -ENOENT && r != -ENOTDIR) error = r;
      }
      if (!*end) break;
      dir = end;
    }
  }
failed:
  say("vitest-uml: session: cannot run ");
  say(name);
  say(error == -ENOENT ? ": not found\n" : ": ");
  if (error != -ENOENT) {
    say(error_name(error));
    say("\n");
  }
  leave(error == -ENOENT ? NOT_FOUND : CANNOT_RUN);
}

/*
 * PID 1 of the session, as init is of a guest: starts the program in its working directory as
 * its user, passes SIGTERM and SIGINT on to it, reaps what is orphaned (so a daemon that exited
 * does not linger as a zombie), and ends with the program's status, a signal N as 128 + N (the
 * agent reports it as the signal). The program is not PID 1, so it can be killed from inside the
 * session, and signals act on it as in a guest. Its end ends the PID namespace, every process in it.
 */
__attribute__((noreturn)) static void session_init(const char *cwd, long uid, long gid, char *const program[]) {
  /* SIGTERM and SIGINT came blocked from the launcher: for init, blocked signals are queued, not dropped. */
  uint64_t signals = (1ul << (SIGTERM - 1)) | (1ul << (SIGINT - 1)) | (1ul << (SIGCHLD - 1));
  must(sys5(SYS_RT_SIGPROCMASK, SIG_BLOCK, (long)&signals, 0, 8, 0), "block signals", 0);
  long events = must(sys5(SYS_SIGNALFD4, -1, (long)&signals, 8, SFD_CLOEXEC, 0), "signalfd", 0);
  long child = must(sys3(SYS_FORK, 0, 0, 0), "fork", 0);
  if (child == 0) {
    uint64_t none = 0;
    sys5(SYS_RT_SIGPROCMASK, SIG_SETMASK, (long)&none, 0, 8, 0);
    long r = sys3(SYS_CHDIR, (long)cwd, 0, 0);
    if (r < 0) {
      say("vitest-uml: session: cannot enter the working directory ");
      say(cwd);
      say(": ");
      say(error_name(r));
      say("\n");
      leave(2);
    }
    if (uid != 0 || gid != 0) {
      must(sys3(SYS_SETGROUPS, 0, 0, 0), "setgroups", 0);
      must(sys3(SYS_SETRESGID, gid, gid, gid), "setresgid", 0);
      must(sys3(SYS_SETRESUID, uid, uid, uid), "setresuid", 0);
    }
    run_program(program);
  }
  for (;;) {
    uint32_t info[32];
    long n = sys3(SYS_READ, events, (long)info, sizeof info);
    if (n < 0 && n != -EINTR) fail("read signals", 0, n);
    if (n <= 0) continue;
    if (info[0] == SIGTERM || info[0] == SIGINT) {
      sys3(SYS_KILL, child, info[0], 0);
      continue;
    }
    int status;
    for (long pid; (pid = sys5(SYS_WAIT4, -1, (long)&status, WNOHANG, 0, 0)) > 0;)
      if (pid == child) leave(status_of(status));
  }
}

/* The launcher: enters the new namespaces, starts the session's init, and ends as it does. */
static int program_main(int argc, char **argv) {
  if (argc < 6) {
    say("usage: session DIR CWD UID GID PROGRAM [ARGS...]\n");
    return SETUP_FAILED;
  }
  const char *dir = argv[1], *cwd = argv[2];
  long uid = parse_number(argv[3]), gid = parse_number(argv[4]);
  need_overlay();
  /* As unshare --fork: the launcher outlives SIGTERM and SIGINT, which are for the session's init. */
  uint64_t held = (1ul << (SIGTERM - 1)) | (1ul << (SIGINT - 1));
  must(sys5(SYS_RT_SIGPROCMASK, SIG_BLOCK, (long)&held, 0, 8, 0), "block signals", 0);
  must(sys3(SYS_UNSHARE, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC, 0, 0), "unshare", 0);
  mount_fs("none", "/", 0, MS_REC | MS_PRIVATE, 0);
  long init = must(sys3(SYS_FORK, 0, 0, 0), "fork", 0);
  if (init == 0) {
    /* The session goes with its launcher, which the agent kills if SIGTERM did not end it. */
    sys5(SYS_PRCTL, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    static char root[PATH_BYTES];
    make_root(dir, JOIN(root, dir, "/root"));
    /* The image's hostname, as the guest's init sets it. */
    set_hostname_from(BASE "/etc/hostname");
    must(sys3(SYS_CHDIR, (long)root, 0, 0), "chdir", root);
    must(sys3(SYS_PIVOT_ROOT, (long)".", (long)".", 0), "pivot_root", root);
    must(sys3(SYS_UMOUNT2, (long)".", MNT_DETACH, 0), "umount", "the guest's root");
    must(sys3(SYS_CHDIR, (long)"/", 0, 0), "chdir", "/");
    session_init(cwd, uid, gid, argv + 5);
  }
  int status = 0;
  while (sys5(SYS_WAIT4, init, (long)&status, 0, 0, 0) == -EINTR) {
  }
  return status_of(status);
}
