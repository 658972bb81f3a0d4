/*
 * Fewer traps into the guest kernel, for the Node that runs in guests. Linked into the guest's copy
 * of Node ahead of the C library (see host/guest/node-runtime.ts).
 *
 * Clock reads. UML has no working vDSO: every clock_gettime in a guest is a system call, which UML
 * turns into a round trip between host processes (33 us on a machine where the host reads its
 * clock in 0.2 us). V8 reads the monotonic clock about ten times per function it compiles, so
 * loading modules in a guest spent much of its time there. This library answers CLOCK_MONOTONIC,
 * CLOCK_REALTIME, gettimeofday and time from the CPU's time stamp counter, anchored to a real read
 * of the guest's clock at most every few milliseconds.
 *
 * It stays out of the way where the counter does not track the guest's clock: in UML's time-travel
 * mode (`time-travel` on the kernel command line), where the clock jumps while the CPU does not,
 * every call is a system call, as without it; and a real read that disagrees with the
 * extrapolation starts its calibration again. A clock set in the guest (`date -s`) shows within
 * one resync interval.
 *
 * Memory V8 commits. The first touch of a page in a guest is a trap too (86 us against 12 us on the
 * host, same machine). V8 commits its heap pages with mprotect(PROT_READ | PROT_WRITE), a Vitest
 * worker about 250 times for 62 MB, and then touches nearly all of them. This library populates
 * such a range as it is committed (MADV_POPULATE_WRITE, Linux 5.14; older kernels refuse it, and
 * it is not tried again): one trap instead of one per page. Only ranges up to POPULATE_MAX_BYTES,
 * since a larger one (a WebAssembly memory) may be touched sparsely, and every page a guest
 * process maps costs its UML process a host mapping (vm.max_map_count).
 *
 * Memory from the C library's allocator, populated the same way (see malloc below).
 *
 * Process starts: libuv's fork becomes a vfork (see fork below).
 *
 * Freestanding (no libgcc, no C library of its own): the allocator it wraps is glibc's, which
 * the guest's Node runtime always carries (node-runtime.ts copies the host's).
 */
#include <stdint.h>
#include <stddef.h>
#include "raw-syscall.h"

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define SYS_READ 0
#define SYS_CLOSE 3
#define SYS_MPROTECT 10
#define SYS_MADVISE 28
#define SYS_GETTIMEOFDAY 96
#define SYS_TIME 201
#define SYS_GETPID 39
#define SYS_GETTID 186
#define SYS_CLOCK_GETTIME 228
#define SYS_OPENAT 257
#define AT_FDCWD (-100)
#define PROT_READ 1
#define PROT_WRITE 2
#define MADV_POPULATE_WRITE 23
#define EINVAL 22

/* The longest a clock is extrapolated before it is read again. */
#define MAX_RESYNC_NS 4000000
/* Extrapolate over at most 1/16 of the calibration span: its error shrinks as the span grows. */
#define RESYNC_SPAN_SHIFT 4
#define MIN_CALIBRATION_NS 1000000
#define DRIFT_LIMIT_NS 1000000
#define SLOW_READ_FACTOR 4
#define POPULATE_MIN_BYTES (64ul << 10)
#define POPULATE_MAX_BYTES (16ul << 20)
#define PAGE_BYTES 4096ul
#define M_TRIM_THRESHOLD (-1)
#define M_TOP_PAD (-2)
#define M_MMAP_THRESHOLD (-3)
#define M_ARENA_MAX (-8)
#define HEAP_KEPT_BYTES (64 << 20)
/* The largest glibc takes (half its 64 MiB heap size). */
#define MMAP_THRESHOLD_BYTES (32 << 20)
/* How far past a request the heap grows, and so how much of it one trap populates. */
#define HEAP_TOP_PAD_BYTES (1 << 20)

struct timespec_k { int64_t tv_sec; int64_t tv_nsec; };
struct timeval_k { int64_t tv_sec; int64_t tv_usec; };

struct anchor { uint64_t tsc; int64_t ns; };
struct clock_state {
  volatile uint32_t seq;
  struct anchor at;
};

enum { UNKNOWN = 0, ENABLED = 1, DISABLED = 2 };
/* DISABLED under time travel, decided at the first read. */
static volatile int mode = UNKNOWN;
static struct clock_state clocks[2];
/* Nanoseconds per tick in 32.32 fixed point, from the first monotonic read to the latest. */
static volatile uint64_t mult;
static volatile uint64_t resync_ticks;
static struct anchor baseline;
static volatile int64_t last_monotonic;
static volatile int writer;
static uint64_t fastest_read;

static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static int64_t to_ns(const struct timespec_k *ts) { return ts->tv_sec * 1000000000 + ts->tv_nsec; }

static void from_ns(int64_t ns, struct timespec_k *ts) {
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
  if (ts->tv_nsec < 0) {
    ts->tv_nsec += 1000000000;
    ts->tv_sec -= 1;
  }
}

static int contains(const char *text, long length, const char *word) {
  for (long i = 0; i < length; i++) {
    long j = 0;
    while (word[j] && i + j < length && text[i + j] == word[j]) j++;
    if (!word[j]) return 1;
  }
  return 0;
}

static int decide_mode(void) {
  char cmdline[4096];
  long fd = sys3(SYS_OPENAT, AT_FDCWD, (long)"/proc/cmdline", 0);
  if (fd < 0) return DISABLED;
  long length = sys3(SYS_READ, fd, (long)cmdline, sizeof cmdline);
  sys3(SYS_CLOSE, fd, 0, 0);
  if (length <= 0) return DISABLED;
  return contains(cmdline, length, "time-travel") ? DISABLED : ENABLED;
}

static int64_t raise_monotonic(int64_t ns) {
  int64_t seen = __atomic_load_n(&last_monotonic, __ATOMIC_RELAXED);
  while (seen < ns && !__atomic_compare_exchange_n(&last_monotonic, &seen, ns, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return seen > ns ? seen : ns;
}

static int64_t extrapolate(const struct anchor *at, uint64_t tsc, uint64_t m) {
  return at->ns + (int64_t)(((unsigned __int128)(tsc - at->tsc) * m) >> 32);
}

static void anchor(int id, struct anchor now) {
  struct clock_state *c = &clocks[id];
  uint64_t m = mult;
  /* The monotonic clock alone calibrates: the real-time one may be set. */
  if (id == CLOCK_MONOTONIC) {
    /* Checked over short gaps only, since the calibration's error grows with the gap. */
    if (m && c->at.tsc && now.tsc > c->at.tsc && now.tsc - c->at.tsc <= 2 * resync_ticks) {
      int64_t drift = extrapolate(&c->at, now.tsc, m) - now.ns;
      if (drift > DRIFT_LIMIT_NS || drift < -DRIFT_LIMIT_NS) {
        mult = 0;
        baseline.tsc = 0;
      }
    }
    if (!baseline.tsc || now.tsc <= baseline.tsc) {
      baseline = now;
    } else if (now.ns - baseline.ns >= MIN_CALIBRATION_NS) {
      uint64_t span = (uint64_t)(now.ns - baseline.ns);
      m = (uint64_t)((double)span * 4294967296.0 / (double)(now.tsc - baseline.tsc));
      uint64_t interval = span >> RESYNC_SPAN_SHIFT;
      if (interval > MAX_RESYNC_NS) interval = MAX_RESYNC_NS;
      resync_ticks = (interval << 32) / m;
      mult = m;
    }
  }
  __atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELEASE);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  c->at = now;
  __atomic_store_n(&c->seq, c->seq + 1, __ATOMIC_RELEASE);
}

/*
 * A real read, which also moves the clock's anchor and refines the calibration. A read that took
 * much longer than the fastest one (preempted on the way) pins the clock too loosely to anchor it.
 * An extrapolation that missed by more than DRIFT_LIMIT_NS (a counter that stopped, jumped or
 * changed rate) starts the calibration again; until it has a span, every read is a real one.
 */
static long read_and_anchor(int id, struct timespec_k *ts) {
  uint64_t before = rdtsc();
  long r = sys3(SYS_CLOCK_GETTIME, id, (long)ts, 0);
  uint64_t after = rdtsc();
  if (r != 0 || after <= before) return r;
  if (__atomic_exchange_n(&writer, 1, __ATOMIC_ACQUIRE)) return r;
  uint64_t gap = after - before;
  if (!fastest_read || gap < fastest_read) fastest_read = gap;
  if (gap <= SLOW_READ_FACTOR * fastest_read) anchor(id, (struct anchor){ before + gap / 2, to_ns(ts) });
  __atomic_store_n(&writer, 0, __ATOMIC_RELEASE);
  return r;
}

static long fast_clock(int id, struct timespec_k *ts) {
  if (mode == UNKNOWN) mode = decide_mode();
  if (mode != ENABLED) return sys3(SYS_CLOCK_GETTIME, id, (long)ts, 0);
  uint64_t tsc = rdtsc();
  struct clock_state *c = &clocks[id];
  uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
  struct anchor at = c->at;
  uint64_t m = mult, limit = resync_ticks;
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  int stable = !(seq & 1) && seq == __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
  if (!stable || !m || !at.tsc || tsc < at.tsc || tsc - at.tsc > limit) {
    long r = read_and_anchor(id, ts);
    if (r == 0 && id == CLOCK_MONOTONIC) from_ns(raise_monotonic(to_ns(ts)), ts);
    return r;
  }
  int64_t ns = extrapolate(&at, tsc, m);
  if (id == CLOCK_MONOTONIC) ns = raise_monotonic(ns);
  from_ns(ns, ts);
  return 0;
}

/* The C library's errno, where the process has one. */
extern int *__errno_location(void) __attribute__((weak));

static int result(long r) {
  if (r >= 0) return (int)r;
  if (__errno_location) *__errno_location() = (int)-r;
  return -1;
}

__attribute__((visibility("default"))) int clock_gettime(int id, struct timespec_k *ts) {
  if (id == CLOCK_REALTIME || id == CLOCK_MONOTONIC) return result(fast_clock(id, ts));
  return result(sys3(SYS_CLOCK_GETTIME, id, (long)ts, 0));
}

__attribute__((visibility("default"))) int gettimeofday(struct timeval_k *tv, void *tz) {
  if (tz || !tv) return result(sys3(SYS_GETTIMEOFDAY, (long)tv, (long)tz, 0));
  struct timespec_k ts;
  long r = fast_clock(CLOCK_REALTIME, &ts);
  if (r != 0) return result(r);
  tv->tv_sec = ts.tv_sec;
  tv->tv_usec = ts.tv_nsec / 1000;
  return 0;
}

__attribute__((visibility("default"))) int64_t time(int64_t *out) {
  struct timespec_k ts;
  if (fast_clock(CLOCK_REALTIME, &ts) != 0) return sys3(SYS_TIME, (long)out, 0, 0);
  if (out) *out = ts.tv_sec;
  return ts.tv_sec;
}

static volatile int populate_refused;

/* One trap for the whole range; nothing where the kernel has no MADV_POPULATE_WRITE. */
static void populate(uintptr_t start, uintptr_t end) {
  if (populate_refused) return;
  if (sys3(SYS_MADVISE, (long)start, (long)(end - start), MADV_POPULATE_WRITE) == -EINVAL) populate_refused = 1;
}

__attribute__((visibility("default"))) int mprotect(void *addr, size_t length, int prot) {
  long r = sys3(SYS_MPROTECT, (long)addr, (long)length, prot);
  if (r == 0 && prot == (PROT_READ | PROT_WRITE) && length >= POPULATE_MIN_BYTES && length <= POPULATE_MAX_BYTES)
    populate((uintptr_t)addr, (uintptr_t)addr + length);
  return result(r);
}

/*
 * Memory from the C library's allocator. Node reads a child's IPC channel into fresh 64 KiB
 * buffers and joins a large message into one more, and V8 frees them only when it collects, about
 * every 64 MB of such memory, so a worker that receives module code keeps touching fresh pages;
 * and the allocator itself touches each new page of its heap as it carves small blocks from it.
 * A block in the heap (brk) that ends above the highest address populated so far populates the
 * heap from there to the program break: glibc grows the heap by its top pad (M_TOP_PAD) beyond
 * what it was asked for, and the blocks after this one are carved from that tail, so one trap
 * serves them all. The heap is kept rather than trimmed (M_TRIM_THRESHOLD) so that mark stays
 * true. A block outside the heap (an mmap'd one) of POPULATE_MIN_BYTES or more is populated each
 * time; for pages already there it costs one system call. Where a block lies is read from glibc's
 * own record of the break: in a guest mmap's addresses start at 1 GiB, close above a non-PIE
 * binary's heap.
 */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *block, size_t size);
extern int mallopt(int parameter, int value);
extern void *__curbrk;

/* The program break when first seen (the heap lies above it), and the heap populated up to here. */
static uintptr_t heap_base;
static volatile uintptr_t heap_populated;

static void populate_block(void *block, size_t size) {
  if (!block || size > POPULATE_MAX_BYTES) return;
  uintptr_t start = (uintptr_t)block & -PAGE_BYTES, end = ((uintptr_t)block + size + PAGE_BYTES - 1) & -PAGE_BYTES;
  uintptr_t top = ((uintptr_t)__atomic_load_n(&__curbrk, __ATOMIC_RELAXED) + PAGE_BYTES - 1) & -PAGE_BYTES;
  if (!heap_base) heap_base = top;
  if (start >= heap_base && end <= top) {
    uintptr_t mark = __atomic_load_n(&heap_populated, __ATOMIC_RELAXED);
    do {
      /* Above the break, the mark is from before a trim: those pages went with it. */
      if (end <= mark && mark <= top) return;
    } while (!__atomic_compare_exchange_n(&heap_populated, &mark, top, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    if (start < mark && mark <= top) start = mark;
    populate(start, top);
  } else if (size >= POPULATE_MIN_BYTES) {
    populate(start, end);
  }
}

__attribute__((visibility("default"))) void *malloc(size_t size) {
  void *block = __libc_malloc(size);
  populate_block(block, size);
  return block;
}

__attribute__((visibility("default"))) void *calloc(size_t count, size_t size) {
  void *block = __libc_calloc(count, size);
  size_t total;
  if (!__builtin_mul_overflow(count, size, &total)) populate_block(block, total);
  return block;
}

__attribute__((visibility("default"))) void *realloc(void *block, size_t size) {
  void *moved = __libc_realloc(block, size);
  populate_block(moved, size);
  return moved;
}

__attribute__((constructor)) static void keep_heap(void) {
  mallopt(M_TRIM_THRESHOLD, HEAP_KEPT_BYTES);
  /* Setting one threshold fixes the other at its default: large blocks come from the heap too. */
  mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
  mallopt(M_TOP_PAD, HEAP_TOP_PAD_BYTES);
  /* Threads allocate from the heap too, not from arenas of their own that nothing populates: a
     guest has one CPU, so they hardly ever wait for each other's lock. */
  mallopt(M_ARENA_MAX, 1);
}

/*
 * Process starts. libuv 1.46 to 1.52 (Node 20 to 24) starts a child with fork(): the parent's
 * writable memory is write-protected for the child, so every page it writes afterwards is a trap
 * (about 75 per spawnSync from a Vitest worker), and the child needs a UML process of its own and
 * faults its way to exec. vfork semantics skip all of that (a spawnSync in a 7.2 guest 10.8 -> 5.1
 * ms); libuv after 1.52 spawns with posix_spawn, whose child is written for it. The child code of
 * these releases (inlined into uv_spawn, their only fork) writes only its own stack frames,
 * uv_spawn's frame, `environ` and the thread's errno before it execs or exits, so the parent puts
 * those back as it resumes: the stack from the wrapper's frame to past uv_spawn's, saved before
 * the vfork. Only on the main thread: another thread reading `environ` while a child runs sees the
 * child's (a spawn's is Node's copy of process.env unless a test passes its own), and two threads'
 * children at once would each put back the other's. A fork from anywhere else (an addon's, a
 * worker thread's) stays a fork.
 */
struct dl_info_k { const char *fname; void *fbase; const char *sname; void *saddr; };
extern int dladdr(const void *address, struct dl_info_k *info) __attribute__((weak));
extern unsigned int uv_version(void) __attribute__((weak));
extern int __fork(void);
extern void __libc_free(void *block);
extern char **__environ;

/* The stack kept across the vfork, from the wrapper's frame up (uv_spawn's frame is 568 bytes). */
#define VFORK_KEPT_STACK_BYTES 4096
#define STRING(x) #x
#define STRING_OF(x) STRING(x)

/*
 * long vfork_keeping_stack(void *save): vfork(2), with VFORK_KEPT_STACK_BYTES of stack from its
 * return address up copied to `save` before and back in the parent after. Registers only after
 * the system call: the child has run (and clobbered) this stack by the time the parent resumes.
 */
long vfork_keeping_stack(void *save) __attribute__((visibility("hidden")));
__asm__(
  ".text\n"
  ".type vfork_keeping_stack,@function\n"
  "vfork_keeping_stack:\n"
  "  mov %rdi, %r8\n"
  "  mov %rsp, %rsi\n"
  "  mov $" STRING_OF(VFORK_KEPT_STACK_BYTES) ", %ecx\n"
  "  rep movsb\n"
  "  mov $58, %eax\n"
  "  syscall\n"
  "  test %rax, %rax\n"
  "  jz 1f\n"
  "  mov %r8, %rsi\n"
  "  mov %rsp, %rdi\n"
  "  mov $" STRING_OF(VFORK_KEPT_STACK_BYTES) ", %ecx\n"
  "  rep movsb\n"
  "1:\n"
  "  ret\n"
  ".size vfork_keeping_stack, .-vfork_keeping_stack\n");

/* The libuv releases whose child code is the one described above: 1.46.0 up to, not including, 1.53.0. */
#define UV_CHILD_CODE_FIRST 0x012e00
#define UV_CHILD_CODE_END 0x013500

/* The one call site known to be libuv's spawn, or 0 until one is. */
static void *volatile spawn_call_site;

static int from_uv_spawn(void *site) {
  if (site == spawn_call_site) return 1;
  if (!uv_version || uv_version() < UV_CHILD_CODE_FIRST || uv_version() >= UV_CHILD_CODE_END) return 0;
  struct dl_info_k info;
  if (!dladdr || !dladdr(site, &info) || !info.sname) return 0;
  const char *name = info.sname, *want = "uv_spawn";
  while (*name && *name == *want) name++, want++;
  if (*name || *want) return 0;
  spawn_call_site = site;
  return 1;
}

__attribute__((visibility("default"))) int fork(void) {
  if (!from_uv_spawn(__builtin_return_address(0)) || sys3(SYS_GETTID, 0, 0, 0) != sys3(SYS_GETPID, 0, 0, 0))
    return __fork();
  void *save = __libc_malloc(VFORK_KEPT_STACK_BYTES);
  if (!save) return __fork();
  char **environment = __environ;
  int error = __errno_location ? *__errno_location() : 0;
  long pid = vfork_keeping_stack(save);
  if (pid == 0) return 0;
  __environ = environment;
  if (__errno_location) *__errno_location() = error;
  __libc_free(save);
  return result(pid);
}
