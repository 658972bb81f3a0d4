/*
 * The agent: started by the guest's init (init.sh), it greets the host on the guest's private
 * serial line, mounts the shares the host asks for, reports ready, then runs commands and forks
 * Node processes on request, streaming their output, IPC messages and exit status back, until told
 * to shut down. Exiting ends the guest. Messages are in src/shared/messages.ts; a frame is a
 * 4-byte big-endian length and a V8-serialized message (v8-wire.h), or from the host a compact one
 * (COMPACT_IPC_TAG).
 *
 * A static C program rather than a Node one: an idle guest holds no Node (its binary read page by
 * page over hostfs and its heap cost about 40 MiB of guest memory and 0.45 s of every boot), and
 * relaying a message costs a few system calls instead of a turn of Node's event loop. A forked
 * process's IPC channel is Node's own ('advanced' serialization, a socket at descriptor 3): the
 * agent carries its messages as bytes, which only the host decodes.
 *
 * Its loop waits on an io_uring where the kernel offers one (see "The ring"), else on poll(2).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/io_uring.h>
#include <malloc.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "guest-paths.h"
#include "v8-wire.h"

/* The serial line `ssl1` of the kernel command line (kernel-command-line.ts). */
#define CHANNEL_DEVICE "/dev/ttyS1"
/* GUEST_SPOOL_DIR in src/shared/messages.ts, where the host binds each guest's spool. */
#define SPOOL_DIR "/run/vitest-uml/spool"
#define NODE_DIR "/run/vitest-uml/node"
#define NODE_BINARY NODE_DIR "/bin/node"
#define SESSION_LAUNCHER "/run/vitest-uml/agent/session"
/* Where sessions keep their upper layers: on the guest's disk, so they count against its limit. */
#define SESSIONS_DIR "/var/lib/vitest-uml/sessions"
/* Where copy-on-write shares keep what the guest wrote over them, bound on itself so that
 * diskChanges() leaves it out like any other mount. */
#define COW_DIR "/var/lib/vitest-uml/cow"
/* Time a process gets between SIGTERM and SIGKILL, as Vitest's forks pool gives. */
#define KILL_DELAY_MS 500
/* A frame larger than this means the line is out of step (MAX_FRAME_BYTES in frame-codec.ts). */
#define MAX_FRAME_BYTES (256u << 20)
#define READ_BYTES 65536
/*
 * Bytes read from the line are acknowledged once this many are unacknowledged: half of the host's
 * window (HOST_TO_GUEST_WINDOW_BYTES in src/shared/messages.ts), which the host may always fill, so
 * its sending never waits on an acknowledgement held back; a small request and its reply then
 * cross the line once each.
 */
#define ACK_AFTER_BYTES 1024
/*
 * The first byte of a compact frame from the host, then 4 bytes (big-endian) of a number: a forked
 * process's IPC message (its id, then the message) or a spooled frame's announcement (the file's
 * sequence number). COMPACT_IPC_TAG and COMPACT_SPOOLED_TAG in src/shared/frame-codec.ts.
 */
#define COMPACT_IPC_TAG 1
#define COMPACT_SPOOLED_TAG 2
#define COMPACT_HEADER_BYTES 5
#define IPC_FD 3

/* Variables that point programs at the network option's proxy (network-up.sh exports them). */
static const char *const PROXY_VARIABLES[] = {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", 0};

static int line_fd = -1;
static struct wire_out frame;

/*
 * Keeps the Node runtime's files open for the guest's life. hostfs lets go of a file's dentry, and
 * with it the inode and its page cache, as soon as nothing uses it, so every Node started in the
 * guest (each test file's worker) read its binary and libraries over hostfs again, a page per
 * host read. They never change: the runtime is cached per Node binary and shim.
 */
static void hold_node_runtime(void) {
  open(NODE_BINARY, O_PATH | O_CLOEXEC);
  DIR *libraries = opendir(NODE_DIR "/lib");
  if (!libraries) return;
  for (struct dirent *entry; (entry = readdir(libraries));) {
    if (entry->d_name[0] != '.') openat(dirfd(libraries), entry->d_name, O_PATH | O_CLOEXEC);
  }
  closedir(libraries);
}

/* --- The line -------------------------------------------------------------------------------- */

static void write_all(int fd, const uint8_t *bytes, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, bytes, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(1); /* the host is gone */
    bytes += n;
    length -= (size_t)n;
  }
}

static void send_frame(unsigned properties) {
  wire_end_frame(&frame, properties);
  write_all(line_fd, frame.data, frame.length);
}

static void begin(const char *type) {
  wire_begin_frame(&frame);
  wire_put_key(&frame, "t");
  wire_put_key(&frame, type);
}

static void put_string_field(const char *key, const char *value) {
  wire_put_key(&frame, key);
  wire_put_string(&frame, value, strlen(value));
}

/* Also on the console, whose tail the host shows when a guest fails. */
static void send_agent_error(const char *message) {
  dprintf(2, "vitest-uml agent: %s\n", message);
  begin("agent-error");
  put_string_field("message", message);
  send_frame(2);
}

static void send_bytes(const char *type, int id, const char *key, const uint8_t *bytes, size_t length) {
  begin(type);
  wire_put_key(&frame, "id");
  wire_put_int(&frame, id);
  wire_put_key(&frame, key);
  wire_put_bytes(&frame, bytes, length);
  send_frame(3);
}

static void send_exit(int id, int code, const char *signal, const char *error) {
  begin("exit");
  wire_put_key(&frame, "id");
  wire_put_int(&frame, id);
  wire_put_key(&frame, "code");
  if (code < 0) wire_put_null(&frame);
  else wire_put_int(&frame, code);
  wire_put_key(&frame, "signal");
  if (signal) wire_put_string(&frame, signal, strlen(signal));
  else wire_put_null(&frame);
  if (error) put_string_field("error", error);
  send_frame(error ? 5 : 4);
}

/* stty raw -echo: no echo, no line editing, no byte translation either way. */
static void open_line(void) {
  line_fd = open(CHANNEL_DEVICE, O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct termios mode;
  if (line_fd < 0 || tcgetattr(line_fd, &mode) != 0) _exit(1);
  cfmakeraw(&mode);
  if (tcsetattr(line_fd, TCSANOW, &mode) != 0) _exit(1);
}

/* --- Messages ---------------------------------------------------------------------------------- */

/*
 * Bytes of frames, the unread ones from `start` to `end`: taking bytes from the front moves an
 * offset, so a large message written out piece by piece is not copied down after each piece.
 */
struct frame_buffer {
  uint8_t *data;
  size_t start;
  size_t end;
  size_t capacity;
};

static const uint8_t *buffer_front(const struct frame_buffer *buffer) { return buffer->data + buffer->start; }

static size_t buffer_size(const struct frame_buffer *buffer) { return buffer->end - buffer->start; }

static void buffer_add(struct frame_buffer *buffer, const uint8_t *bytes, size_t length) {
  if (buffer->end + length > buffer->capacity && buffer->start > 0) {
    memmove(buffer->data, buffer_front(buffer), buffer_size(buffer));
    buffer->end -= buffer->start;
    buffer->start = 0;
  }
  wire_reserve(&buffer->data, &buffer->capacity, buffer->end + length, READ_BYTES);
  memcpy(buffer->data + buffer->end, bytes, length);
  buffer->end += length;
}

static void drop_front(struct frame_buffer *buffer, size_t length) {
  buffer->start += length;
  if (buffer->start == buffer->end) buffer->start = buffer->end = 0;
}

#define FRAME_INCOMPLETE (-1)
#define FRAME_TOO_LARGE (-2)

static uint32_t read_be32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * The length of the first whole frame's payload (on the line, or a forked process's IPC),
 * FRAME_INCOMPLETE while it is incomplete, FRAME_TOO_LARGE when its length is past any real one.
 */
static long next_frame(const struct frame_buffer *buffer) {
  if (buffer_size(buffer) < 4) return FRAME_INCOMPLETE;
  uint32_t length = read_be32(buffer_front(buffer));
  if (length > MAX_FRAME_BYTES) return FRAME_TOO_LARGE;
  return buffer_size(buffer) - 4 >= length ? (long)length : FRAME_INCOMPLETE;
}

/* --- The ring ---------------------------------------------------------------------------------- */

/*
 * A system call costs about 19 us in a guest (each is a trip through the host's kernel to UML's),
 * and relaying a round trip between the host and a worker took six: poll, read and write each way.
 * On an io_uring the reads of the line and of IPC channels stay posted, and a message for a worker
 * is sent with the wait for the next event: three (two io_uring_enter and a write to the line).
 * The loop needs io_uring's deferred task running (Linux 6.1), so that completions are made only
 * when the agent asks for them, not in the middle of its other system calls; on older kernels, or
 * where io_uring is off, it polls.
 */
#define RING_ENTRIES 1024
/*
 * A turn that submits sends waits for them as well as for the next event, so that their
 * completions (at once, mostly) do not end the wait; a send that cannot complete (a worker that
 * does not read its channel) holds the other events back no longer than this.
 */
#define SENDS_WAIT_NS 1000000

/* What a request on the ring is for, in the low bits of its user_data; a process's requests carry
 * its address above them (calloc's, aligned for max_align_t: 16 bytes). */
enum {
  LINE_READ,
  SIGNALS_READY,
  KILL_DUE,
  CANCELLED,
  OUTPUT_READY, /* and OUTPUT_READY + 1 for stderr */
  IPC_READ = OUTPUT_READY + 2,
  IPC_SEND,
  KIND_BITS = 15,
};

static struct {
  int fd;
  unsigned *sq_head, *sq_tail, sq_mask, sq_entries;
  unsigned *cq_head, *cq_tail, cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  unsigned unsubmitted;
  /* Sends added since the completions were last taken. */
  unsigned sends;
} ring = {.fd = -1};

static bool ring_setup(void) {
  struct io_uring_params params = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
  int fd = (int)syscall(__NR_io_uring_setup, RING_ENTRIES, &params);
  if (fd < 0) return false;
  size_t sq_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
  size_t cq_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
  bool single = params.features & IORING_FEAT_SINGLE_MMAP;
  if (single && cq_size > sq_size) sq_size = cq_size;
  int shared = MAP_SHARED | MAP_POPULATE, rw = PROT_READ | PROT_WRITE;
  uint8_t *sq = mmap(NULL, sq_size, rw, shared, fd, IORING_OFF_SQ_RING);
  uint8_t *cq = single ? sq : mmap(NULL, cq_size, rw, shared, fd, IORING_OFF_CQ_RING);
  void *sqes = mmap(NULL, params.sq_entries * sizeof(struct io_uring_sqe), rw, shared, fd, IORING_OFF_SQES);
  /* A forked child that inherits the ring's pages panics UML's kernel when it lets go of them
   * ("Bad page map ... file:[io_uring]", seen on 7.2): children never get them. */
  if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED || madvise(sq, sq_size, MADV_DONTFORK) != 0 ||
      madvise(cq, cq_size, MADV_DONTFORK) != 0 ||
      madvise(sqes, params.sq_entries * sizeof(struct io_uring_sqe), MADV_DONTFORK) != 0) {
    close(fd);
    return false;
  }
  ring.fd = fd;
  ring.sq_head = (unsigned *)(sq + params.sq_off.head);
  ring.sq_tail = (unsigned *)(sq + params.sq_off.tail);
  ring.sq_mask = *(unsigned *)(sq + params.sq_off.ring_mask);
  ring.sq_entries = params.sq_entries;
  unsigned *array = (unsigned *)(sq + params.sq_off.array);
  for (unsigned i = 0; i < params.sq_entries; i++) array[i] = i;
  ring.cq_head = (unsigned *)(cq + params.cq_off.head);
  ring.cq_tail = (unsigned *)(cq + params.cq_off.tail);
  ring.cq_mask = *(unsigned *)(cq + params.cq_off.ring_mask);
  ring.cqes = (struct io_uring_cqe *)(cq + params.cq_off.cqes);
  ring.sqes = sqes;
  return true;
}

/* Submits what was added and, when asked to wait, waits for an event and the sends added. */
static void ring_enter(bool wait) {
  struct __kernel_timespec limit = {.tv_nsec = SENDS_WAIT_NS};
  struct io_uring_getevents_arg arg = {.sigmask_sz = _NSIG / 8, .ts = (uintptr_t)&limit};
  unsigned flags = wait ? IORING_ENTER_GETEVENTS : 0;
  if (wait && ring.sends) flags |= IORING_ENTER_EXT_ARG;
  int n = (int)syscall(__NR_io_uring_enter, ring.fd, ring.unsubmitted, wait ? 1 + ring.sends : 0, flags,
                       flags & IORING_ENTER_EXT_ARG ? &arg : NULL, sizeof arg);
  if (n >= 0) ring.unsubmitted -= (unsigned)n;
  else if (errno != EINTR && errno != EAGAIN && errno != EBUSY && errno != ETIME) _exit(1);
}

/* Adds a request; `op_flags` is its opcode's flags field (poll events, send flags). */
static void ring_add(uint8_t opcode, int fd, const void *address, unsigned length, uint32_t op_flags, uint64_t data) {
  unsigned tail = *ring.sq_tail;
  while (tail - __atomic_load_n(ring.sq_head, __ATOMIC_ACQUIRE) == ring.sq_entries) ring_enter(false);
  struct io_uring_sqe *sqe = &ring.sqes[tail & ring.sq_mask];
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = opcode;
  sqe->fd = fd;
  sqe->addr = (uintptr_t)address;
  sqe->len = length;
  sqe->msg_flags = op_flags;
  sqe->user_data = data;
  __atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
  ring.unsubmitted++;
  if (opcode == IORING_OP_SEND) ring.sends++;
}

struct process;

_Static_assert(IPC_SEND <= KIND_BITS && _Alignof(max_align_t) > KIND_BITS, "a request's kind fits below its process");

static uint64_t request_of(const struct process *p, unsigned kind) { return (uintptr_t)p | kind; }

/* Calls off a process's request; it comes back (cancelled, or done before) as usual. */
static void ring_cancel(const struct process *p, unsigned kind) {
  ring_add(IORING_OP_ASYNC_CANCEL, -1, (const void *)(uintptr_t)request_of(p, kind), 0, 0, CANCELLED);
}

/* --- Processes --------------------------------------------------------------------------------- */

struct process {
  int id;
  pid_t pid;
  int out[2]; /* stdout, stderr: -1 once at their end */
  int ipc;    /* the forked Node's channel, -1 when it has none or it closed */
  struct frame_buffer from_ipc;
  struct frame_buffer to_ipc;
  bool ended;
  int status;
  char *session_dir;
  /* Why the agent stopped it, for its exit message. */
  const char *error;
  /* When a SIGTERM'd process gets SIGKILL (ms on CLOCK_MONOTONIC), 0 when not asked to stop. */
  long long kill_at;
  /* On the ring: what it has in flight (its streams polled, a read of its IPC channel into
   * ipc_chunk, a send of ipc_sending, whose bytes must not move meanwhile, while to_ipc takes
   * more). Its memory outlives it until they are done. */
  bool polling[2], reading_ipc, sending_ipc, forgotten;
  uint8_t *ipc_chunk;
  struct frame_buffer ipc_sending;
  struct process *next;
};

static struct process *processes;

static struct process *find_process(int id) {
  for (struct process *p = processes; p; p = p->next)
    if (p->id == id) return p;
  return NULL;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const struct {
  int number;
  const char *name;
} SIGNALS[] = {
    {SIGHUP, "SIGHUP"},     {SIGINT, "SIGINT"},       {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"},   {SIGABRT, "SIGABRT"},     {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"},   {SIGUSR1, "SIGUSR1"},     {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"},   {SIGALRM, "SIGALRM"},     {SIGTERM, "SIGTERM"}, {SIGSTKFLT, "SIGSTKFLT"},
    {SIGCHLD, "SIGCHLD"},   {SIGCONT, "SIGCONT"},     {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"},
    {SIGTTIN, "SIGTTIN"},   {SIGTTOU, "SIGTTOU"},     {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"},   {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"}, {SIGWINCH, "SIGWINCH"},
    {SIGIO, "SIGIO"},       {SIGPWR, "SIGPWR"},       {SIGSYS, "SIGSYS"},
};

static const char *signal_name(int number) {
  for (size_t i = 0; i < sizeof SIGNALS / sizeof *SIGNALS; i++)
    if (SIGNALS[i].number == number) return SIGNALS[i].name;
  return NULL;
}

static int signal_number(const char *name) {
  for (size_t i = 0; name && i < sizeof SIGNALS / sizeof *SIGNALS; i++)
    if (strcmp(SIGNALS[i].name, name) == 0) return SIGNALS[i].number;
  return 0;
}

/* The first child of a process (a session's init is the launcher's), or 0. */
static pid_t first_child(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
  FILE *file = fopen(path, "re");
  if (!file) return 0;
  int child = 0;
  if (fscanf(file, "%d", &child) != 1) child = 0;
  fclose(file);
  return child;
}

/* Signals a process; in a session its init, which holds the launcher's TERM and INT and passes them on. */
static void signal_process(struct process *p, int signal) {
  if (p->ended) return;
  pid_t init = p->session_dir ? first_child(p->pid) : 0;
  kill(init ? init : p->pid, signal);
  if (signal == SIGTERM && !p->kill_at) p->kill_at = now_ms() + KILL_DELAY_MS;
}

static int remove_entry(const char *path, const struct stat *info, int type, struct FTW *at) {
  (void)info, (void)type, (void)at;
  remove(path);
  return 0;
}

/* Removes a finished session's directory, in a child of its own so the agent goes on meanwhile. */
static void remove_later(const char *dir) {
  if (fork() == 0) {
    /* Other processes' pipes and channels are not this child's to hold open. */
    close_range(3, ~0U, 0);
    _exit(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0);
  }
}

static void read_ipc(struct process *p, bool drain);
static void close_ipc(struct process *p);

/* Frees a forgotten process once the ring holds nothing of it. */
static void release(struct process *p) {
  if (!p->forgotten || p->polling[0] || p->polling[1] || p->reading_ipc || p->sending_ipc) return;
  free(p->from_ipc.data);
  free(p->to_ipc.data);
  free(p->ipc_sending.data);
  free(p->ipc_chunk);
  free(p->session_dir);
  free(p);
}

static void forget_process(struct process *p) {
  for (struct process **at = &processes; *at; at = &(*at)->next) {
    if (*at == p) {
      *at = p->next;
      break;
    }
  }
  p->forgotten = true;
  release(p);
}

static struct process *new_process(int id) {
  struct process *p = calloc(1, sizeof *p);
  if (!p) abort();
  p->id = id;
  p->ipc = -1;
  p->out[0] = p->out[1] = -1;
  p->next = processes;
  processes = p;
  return p;
}

static bool done(const struct process *p) { return p->ended && p->out[0] < 0 && p->out[1] < 0; }

/*
 * Reports the process's end once it has exited and closed its output, as Node's 'close' does.
 * Messages it sent before exiting go first: a read of them on the ring is called off, and once it
 * is back (ring_loop calls again) the rest are read here.
 */
static void finish_if_done(struct process *p) {
  if (!done(p)) return;
  if (p->reading_ipc) {
    ring_cancel(p, IPC_READ);
    return;
  }
  if (p->ipc >= 0) read_ipc(p, true);
  int code = -1;
  const char *signal = NULL;
  if (WIFEXITED(p->status)) code = WEXITSTATUS(p->status);
  else if (WIFSIGNALED(p->status)) signal = signal_name(WTERMSIG(p->status));
  /* A session's init reports its program's death by signal N as 128 + N, as a shell does. */
  if (p->session_dir && code > 128 && signal_name(code - 128)) {
    signal = signal_name(code - 128);
    code = -1;
  }
  send_exit(p->id, code, signal, p->error);
  if (p->ipc >= 0) close_ipc(p);
  if (p->session_dir) remove_later(p->session_dir);
  forget_process(p);
}

/* What the ring may still do with the channel is called off: its descriptor number goes back. */
static void close_ipc(struct process *p) {
  if (p->reading_ipc) ring_cancel(p, IPC_READ);
  if (p->sending_ipc) ring_cancel(p, IPC_SEND);
  close(p->ipc);
  p->ipc = -1;
}

/* Relays each whole IPC message in what the process wrote (Node's framing: a 4-byte length, then V8). */
static void ipc_input(struct process *p, const uint8_t *bytes, size_t size) {
  buffer_add(&p->from_ipc, bytes, size);
  long length;
  while ((length = next_frame(&p->from_ipc)) >= 0) {
    send_bytes("ipc", p->id, "bytes", buffer_front(&p->from_ipc) + 4, (size_t)length);
    drop_front(&p->from_ipc, 4 + (size_t)length);
  }
  if (length == FRAME_TOO_LARGE) {
    p->error = "it wrote an IPC message over 256 MiB (or out of step), so the agent stopped it";
    close_ipc(p);
    signal_process(p, SIGKILL);
  }
}

/*
 * Reads the process's IPC channel (a blocking socket, for the ring's sake, so read here without
 * waiting): a chunk per turn of the loop, so a chatty process cannot keep the agent from the rest,
 * or all there is (`drain`) once it has exited.
 */
static void read_ipc(struct process *p, bool drain) {
  uint8_t chunk[READ_BYTES];
  do {
    ssize_t n = recv(p->ipc, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0 || errno != EAGAIN) close_ipc(p);
      return;
    }
    ipc_input(p, chunk, (size_t)n);
  } while (drain && p->ipc >= 0);
}

static void write_ipc(struct process *p) {
  while (buffer_size(&p->to_ipc) > 0) {
    ssize_t n = send(p->ipc, buffer_front(&p->to_ipc), buffer_size(&p->to_ipc), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno != EAGAIN) drop_front(&p->to_ipc, buffer_size(&p->to_ipc)); /* it disconnected */
      return;
    }
    drop_front(&p->to_ipc, (size_t)n);
  }
}

/* --- Starting processes ------------------------------------------------------------------------ */

struct strings {
  char **items;
  size_t count;
};

static void strings_add(struct strings *list, const char *text) {
  char **items = realloc(list->items, (list->count + 2) * sizeof *items);
  if (!items) abort();
  list->items = items;
  list->items[list->count++] = strdup(text);
  list->items[list->count] = NULL;
}

static void strings_free(struct strings *list) {
  for (size_t i = 0; i < list->count; i++) free(list->items[i]);
  free(list->items);
  memset(list, 0, sizeof *list);
}

/* Sets NAME=VALUE in an environment, in place of an earlier NAME. */
static void env_set(struct strings *env, const char *name, const char *value) {
  size_t length = strlen(name);
  char *entry = malloc(length + strlen(value) + 2);
  if (!entry) abort();
  sprintf(entry, "%s=%s", name, value);
  for (size_t i = 0; i < env->count; i++) {
    if (strncmp(env->items[i], name, length) == 0 && env->items[i][length] == '=') {
      free(env->items[i]);
      env->items[i] = entry;
      return;
    }
  }
  strings_add(env, entry);
  free(entry);
}

static const char *env_get(const struct strings *env, const char *name) {
  size_t length = strlen(name);
  for (size_t i = 0; i < env->count; i++)
    if (strncmp(env->items[i], name, length) == 0 && env->items[i][length] == '=') return env->items[i] + length + 1;
  return NULL;
}

/* Adds an array's strings; false if it holds anything else. */
static bool add_strings(struct strings *list, const struct wire_value *array) {
  for (size_t i = 0; array && array->kind == W_ARRAY && i < array->count; i++) {
    if (array->items[i].kind != W_STRING) return false;
    strings_add(list, array->items[i].text);
  }
  return true;
}

struct user {
  unsigned uid;
  unsigned gid;
  char home[4096];
  char name[256];
};

/*
 * Looks a guest user up in /etc/passwd, by name or uid. A numeric uid that the image does not list
 * (container images often have no entry for the ids they run as) runs with that uid as its group
 * and / as its home.
 */
static bool resolve_user(const char *wanted, struct user *user, char *error, size_t error_size) {
  FILE *passwd = fopen("/etc/passwd", "re");
  char line[8192];
  while (passwd && fgets(line, sizeof line, passwd)) {
    line[strcspn(line, "\n")] = 0;
    char *fields[7] = {0};
    char *rest = line;
    for (int i = 0; i < 7 && rest; i++) {
      fields[i] = rest;
      rest = strchr(rest, ':');
      if (rest) *rest++ = 0;
    }
    if (!fields[3]) continue;
    if (strcmp(fields[0], wanted) == 0 || strcmp(fields[2], wanted) == 0) {
      user->uid = (unsigned)strtoul(fields[2], NULL, 10);
      user->gid = (unsigned)strtoul(fields[3], NULL, 10);
      snprintf(user->home, sizeof user->home, "%s", fields[5] && *fields[5] ? fields[5] : "/");
      snprintf(user->name, sizeof user->name, "%s", fields[0]);
      fclose(passwd);
      return true;
    }
  }
  if (passwd) fclose(passwd);
  if (*wanted && strspn(wanted, "0123456789") == strlen(wanted)) {
    user->uid = user->gid = (unsigned)strtoul(wanted, NULL, 10);
    snprintf(user->home, sizeof user->home, "/");
    snprintf(user->name, sizeof user->name, "%s", wanted);
    return true;
  }
  snprintf(error, error_size,
           "No user \"%s\" in the guest's /etc/passwd (give a numeric uid for a user the image does not list)", wanted);
  return false;
}

static void make_dirs(const char *path) {
  char partial[4096];
  if (!*path) return;
  snprintf(partial, sizeof partial, "%s", path);
  for (char *slash = partial + 1; (slash = strchr(slash, '/')); slash++) {
    *slash = 0;
    mkdir(partial, 0755);
    *slash = '/';
  }
  mkdir(partial, 0755);
}

static bool exists(const char *path) {
  struct stat info;
  return stat(path, &info) == 0;
}

static const char *errno_name(int error) {
  switch (error) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case ENOTDIR: return "ENOTDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EPERM: return "EPERM";
    case ENOMEM: return "ENOMEM";
    case ETXTBSY: return "ETXTBSY";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    default: return strerror(error);
  }
}

/* execvp with the search path of the program's own environment, as libuv does. */
static void exec_in_path(char *const argv[], char *const envp[], const char *path) {
  if (strchr(argv[0], '/')) {
    execve(argv[0], argv, envp);
    return;
  }
  int first_error = ENOENT;
  char candidate[4096];
  for (const char *dir = path ? path : "/usr/bin:/bin"; dir;) {
    const char *end = strchr(dir, ':');
    int length = end ? (int)(end - dir) : (int)strlen(dir);
    snprintf(candidate, sizeof candidate, "%.*s%s%s", length, dir, length ? "/" : "", argv[0]);
    execve(candidate, argv, envp);
    if (errno != ENOENT && errno != ENOTDIR && first_error == ENOENT) first_error = errno;
    dir = end ? end + 1 : NULL;
  }
  errno = first_error;
}

struct launch {
  char *const *argv;
  char *const *envp;
  const char *cwd;
  const char *chroot_to; /* run inside this root (a running session's), from its / */
  bool set_ids;
  unsigned uid, gid;
  int ipc; /* the child's end of a forked Node's channel, or -1 */
};

/* In the child: its descriptors, root, directory and ids, then the program. Returns an errno. */
static int child_exec(const struct launch *how, int out[2]) {
  /* As libuv starts a process: every signal unblocked and at its default. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int number = 1; number < NSIG; number++) signal(number, SIG_DFL);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[0], 1) < 0 || dup2(out[1], 2) < 0) return errno;
  /* dup2 onto itself would keep close-on-exec. */
  if (how->ipc == IPC_FD) fcntl(IPC_FD, F_SETFD, 0);
  else if (how->ipc >= 0 && dup2(how->ipc, IPC_FD) < 0) return errno;
  if (how->chroot_to && (chroot(how->chroot_to) != 0 || chdir("/") != 0)) return errno;
  if (how->cwd && chdir(how->cwd) != 0) return errno;
  if (how->set_ids) {
    setgroups(0, NULL);
    if (setgid(how->gid) != 0 || setuid(how->uid) != 0) return errno;
  }
  const char *path = NULL;
  for (char *const *e = how->envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  exec_in_path(how->argv, how->envp, path);
  return errno;
}

/* What a launched child reads, and where it reports a failure before exec. */
struct child_start {
  const struct launch *how;
  int out[2];
  int failure;
};

static int child_main(void *arg) {
  struct child_start *start = arg;
  start->failure = child_exec(start->how, start->out);
  _exit(127);
}

/*
 * The child runs on this stack, in the agent's memory, until its exec. Not fork: copying the
 * agent's page tables, and then a copy-on-write fault on each page the agent writes next, is a
 * trap each in a guest; an exec took twice as long once the agent's buffers had grown.
 */
static uint8_t child_stack[1 << 16] __attribute__((aligned(16)));

/* Starts the program; on failure returns false with Node's message for it ("spawn X ENOENT"). */
static bool launch(struct process *p, const struct launch *how, char *error, size_t error_size) {
  int out[2][2];
  if (pipe2(out[0], O_CLOEXEC) != 0 || pipe2(out[1], O_CLOEXEC) != 0) {
    snprintf(error, error_size, "spawn %s %s", how->argv[0], errno_name(errno));
    return false;
  }
  /* The agent waits until the child has exec'd or exited (CLONE_VFORK), so `failure` is final. */
  struct child_start start = {.how = how, .out = {out[0][1], out[1][1]}, .failure = 0};
  pid_t pid = clone(child_main, child_stack + sizeof child_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
  int failure = pid < 0 ? errno : start.failure;
  close(out[0][1]);
  close(out[1][1]);
  if (failure) {
    if (pid > 0) waitpid(pid, NULL, 0);
    close(out[0][0]);
    close(out[1][0]);
    snprintf(error, error_size, "spawn %s %s", how->argv[0], errno_name(failure));
    return false;
  }
  p->pid = pid;
  p->out[0] = out[0][0];
  p->out[1] = out[1][0];
  return true;
}

/*
 * Starts a command (exec) or a Node module with an IPC channel (fork) as the host asked: its
 * environment from scratch (the search path, root's or the user's home and name, the proxy, then
 * the host's variables), in a fresh session, a running session's root, or the guest itself.
 */
static void start_process(const struct wire_value *request, bool is_fork) {
  int id = (int)wire_number(request, "id", 0);
  char error[8192] = "";
  struct strings env = {0}, argv = {0};
  struct user user = {.uid = 0, .gid = 0, .home = "/root", .name = "root"};
  const char *wanted_user = wire_string(request, "user");
  bool as_user = wanted_user && strcmp(wanted_user, "root") != 0 && strcmp(wanted_user, "0") != 0;
  bool in_session = wire_true(request, "session");
  double session_of = wire_number(request, "inSessionOf", 0);
  char session_root[64] = "";
  char *session_dir = NULL;
  char ids[2][16];
  int channel[2] = {-1, -1};
  const char *cwd;
  struct process *p = NULL;

  if (session_of) {
    struct process *owner = find_process((int)session_of);
    pid_t init = owner && owner->session_dir && !owner->ended ? first_child(owner->pid) : 0;
    if (!init) {
      send_exit(id, -1, NULL, "its session has ended");
      return;
    }
    snprintf(session_root, sizeof session_root, "/proc/%d/root", init);
  }
  if (as_user && !resolve_user(wanted_user, &user, error, sizeof error)) goto failed;

  env_set(&env, "PATH", getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  env_set(&env, "HOME", "/root");
  env_set(&env, "USER", "root");
  env_set(&env, "LOGNAME", "root");
  env_set(&env, "LANG", "C.UTF-8");
  for (const char *const *name = PROXY_VARIABLES; *name; name++)
    if (getenv(*name) && *getenv(*name)) env_set(&env, *name, getenv(*name));
  if (as_user) {
    env_set(&env, "HOME", user.home);
    env_set(&env, "USER", user.name);
    env_set(&env, "LOGNAME", user.name);
  }
  const struct wire_value *extra = wire_get(request, "env");
  for (size_t i = 0; extra && extra->kind == W_OBJECT && i < extra->count; i++)
    if (extra->items[i].kind == W_STRING) env_set(&env, extra->keys[i], extra->items[i].text);
  /* Some images have no home directory for root (or the user): start in / then. */
  cwd = wire_string(request, "cwd");
  if (!cwd) cwd = env_get(&env, "HOME") && exists(env_get(&env, "HOME")) ? env_get(&env, "HOME") : "/";

  if (in_session) {
    char template[] = SESSIONS_DIR "/XXXXXX";
    make_dirs(SESSIONS_DIR);
    if (!mkdtemp(template)) {
      snprintf(error, sizeof error, "could not make a session directory in %s: %s", SESSIONS_DIR, strerror(errno));
      goto failed;
    }
    session_dir = strdup(template);
    snprintf(ids[0], sizeof ids[0], "%u", user.uid);
    snprintf(ids[1], sizeof ids[1], "%u", user.gid);
    /* The launcher enters the namespaces as root, then takes the user's ids and directory. */
    strings_add(&argv, SESSION_LAUNCHER);
    strings_add(&argv, session_dir);
    strings_add(&argv, cwd);
    strings_add(&argv, ids[0]);
    strings_add(&argv, ids[1]);
  } else if (!*session_root && !exists(cwd)) {
    snprintf(error, sizeof error, "its working directory %s does not exist in the guest.", cwd);
    goto failed;
  }

  if (is_fork) {
    strings_add(&argv, NODE_BINARY);
    bool strings = add_strings(&argv, wire_get(request, "execArgv"));
    const char *entry = wire_string(request, "entry");
    strings_add(&argv, entry ? entry : "");
    if (!add_strings(&argv, wire_get(request, "args")) || !strings) {
      snprintf(error, sizeof error, "an argument that is not a string");
      goto failed;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
      snprintf(error, sizeof error, "spawn %s %s", NODE_BINARY, errno_name(errno));
      goto failed;
    }
    env_set(&env, "NODE_CHANNEL_FD", "3");
    env_set(&env, "NODE_CHANNEL_SERIALIZATION_MODE", "advanced");
  } else {
    size_t before = argv.count;
    if (!add_strings(&argv, wire_get(request, "argv"))) {
      snprintf(error, sizeof error, "an argument that is not a string");
      goto failed;
    }
    if (argv.count == before) {
      snprintf(error, sizeof error, "empty command");
      goto failed;
    }
  }

  p = new_process(id);
  struct launch how = {
      .argv = argv.items,
      .envp = env.items,
      .cwd = session_dir ? "/" : *session_root ? NULL : cwd,
      .chroot_to = *session_root ? session_root : NULL,
      .set_ids = as_user && !session_dir && !*session_root,
      .uid = user.uid,
      .gid = user.gid,
      .ipc = channel[1],
  };
  if (!launch(p, &how, error, sizeof error)) {
    forget_process(p);
    goto failed;
  }
  if (channel[1] >= 0) close(channel[1]);
  p->ipc = channel[0];
  p->session_dir = session_dir;
  strings_free(&env);
  strings_free(&argv);
  return;

failed:
  if (channel[0] >= 0) close(channel[0]);
  if (channel[1] >= 0) close(channel[1]);
  if (session_dir) rmdir(session_dir);
  free(session_dir);
  strings_free(&env);
  strings_free(&argv);
  send_exit(id, -1, NULL, error);
}

/* --- Shares ------------------------------------------------------------------------------------ */


/* Newer kernels take `hostfs=<dir>` as mount data, older ones (5.10, 6.1) the bare directory. */
static bool mount_hostfs(const char *source, const char *target, bool writable, char *error, size_t size) {
  char data[4200];
  unsigned long flags = writable ? 0 : MS_RDONLY;
  snprintf(data, sizeof data, "hostfs=%s", source);
  if (mount("none", target, "hostfs", flags, data) == 0 || mount("none", target, "hostfs", flags, source) == 0)
    return true;
  snprintf(error, size, "mounting %s at %s (hostfs) failed: %s", source, target, strerror(errno));
  return false;
}

/* Whether a regular file among a directory's first 200 entries, breadth first, can be opened (true if none is). */
static bool opens_files(const char *dir) {
  enum { LOOKED_AT = 200 };
  char *pending[LOOKED_AT + 1];
  size_t head = 0, tail = 0, seen = 0;
  int result = -1;
  pending[tail++] = strdup(dir);
  while (head < tail && result < 0) {
    DIR *listing = opendir(pending[head]);
    struct dirent *entry;
    while (listing && result < 0 && seen < LOOKED_AT && (entry = readdir(listing))) {
      if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
      seen++;
      char *path;
      if (asprintf(&path, "%s/%s", pending[head], entry->d_name) < 0) abort();
      struct stat info;
      bool found = lstat(path, &info) == 0;
      if (found && S_ISDIR(info.st_mode)) {
        pending[tail++] = path;
        continue;
      }
      if (found && S_ISREG(info.st_mode)) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        result = fd >= 0;
        if (fd >= 0) close(fd);
      }
      free(path);
    }
    if (listing) closedir(listing);
    head++;
  }
  for (size_t i = 0; i < tail; i++) free(pending[i]);
  return result != 0;
}

/* The start of a small file, as text (empty when it cannot be read); false when it cannot be opened. */
static bool read_text(const char *path, char *text, size_t size) {
  FILE *file = fopen(path, "re");
  size_t n = file ? fread(text, 1, size - 1, file) : 0;
  if (file) fclose(file);
  text[n] = 0;
  return file != NULL;
}

static bool has_overlayfs(void) {
  char text[8192];
  read_text("/proc/filesystems", text, sizeof text);
  return strstr(text, "\toverlay\n") != NULL;
}

/*
 * Mounts host directories over hostfs; the sandbox on the host decides what is really writable.
 * A copy-on-write share is the read-only host directory under an overlay whose upper layer is on
 * the guest's disk: the guest writes where it likes, the host's files never change.
 */
static bool mount_shares(const struct wire_value *shares, char *error, size_t size) {
  bool any_cow = false;
  for (size_t i = 0; shares && shares->kind == W_ARRAY && i < shares->count; i++)
    any_cow = any_cow || wire_true(&shares->items[i], "copyOnWrite");
  if (any_cow) {
    if (!has_overlayfs()) {
      snprintf(error, size,
               "overlayfs, which makes the project writable in the guest, is missing: this kernel has it neither "
               "built in nor as a module. Use a kernel with overlayfs (CONFIG_OVERLAY_FS).");
      return false;
    }
    make_dirs(COW_DIR);
    if (mount(COW_DIR, COW_DIR, NULL, MS_BIND, NULL) != 0) {
      snprintf(error, size, "binding %s on itself failed: %s", COW_DIR, strerror(errno));
      return false;
    }
  }
  for (size_t i = 0; shares && shares->kind == W_ARRAY && i < shares->count; i++) {
    const struct wire_value *share = &shares->items[i];
    const char *source = wire_string(share, "source"), *target = wire_string(share, "target");
    if (!source || !target) {
      snprintf(error, size, "a share without its source or target");
      return false;
    }
    if (!wire_true(share, "copyOnWrite")) {
      make_dirs(target);
      if (!mount_hostfs(source, target, wire_true(share, "writable"), error, size)) return false;
      continue;
    }
    char lower[4096], upper[4096], work[4096], data[12500];
    snprintf(lower, sizeof lower, "%s%zu", LOWER_PREFIX, i);
    snprintf(upper, sizeof upper, "%s/%zu/upper", COW_DIR, i);
    snprintf(work, sizeof work, "%s/%zu/work", COW_DIR, i);
    snprintf(data, sizeof data, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
    const char *dirs[] = {lower, upper, work, target};
    for (size_t d = 0; d < 4; d++) make_dirs(dirs[d]);
    if (!mount_hostfs(source, lower, false, error, size)) return false;
    if (mount("overlay", target, "overlay", 0, data) != 0) {
      snprintf(error, size, "mounting the copy-on-write overlay at %s failed: %s", target, strerror(errno));
      return false;
    }
    /* Kernel 5.10's hostfs opens files by the path overlayfs hands it, not its own: every open
     * fails with ENOENT. The share stays read-only there. */
    if (!opens_files(target) && (umount(target) != 0 || mount(lower, target, NULL, MS_MOVE, NULL) != 0)) {
      snprintf(error, size, "moving the read-only share %s into place failed: %s", target, strerror(errno));
      return false;
    }
  }
  return true;
}

/* os-release(5) as the image has it (the host parses it), empty for a userland that has none. */
static void read_os_release(char *text, size_t size) {
  /* OS_RELEASE_PATHS in src/shared/os-release.ts, in its order. */
  if (!read_text("/etc/os-release", text, size)) read_text("/usr/lib/os-release", text, size);
}

static void setup(const struct wire_value *message) {
  char error[8192];
  if (!mount_shares(wire_get(message, "shares"), error, sizeof error)) {
    send_agent_error(error);
    return;
  }
  struct utsname name;
  uname(&name);
  static char os_release[65536];
  read_os_release(os_release, sizeof os_release);
  begin("ready");
  put_string_field("kernelRelease", name.release);
  put_string_field("osRelease", os_release);
  send_frame(3);
}

/* --- The loop ---------------------------------------------------------------------------------- */

/* A forked process's IPC message from a compact frame: its bytes, the process's id in `number`. */
static void relay_ipc(const struct wire_value *message) {
  struct process *p = find_process((int)message->number);
  if (!p || p->ipc < 0) return;
  uint32_t n = (uint32_t)message->length;
  uint8_t header[4] = {n >> 24, n >> 16 & 0xff, n >> 8 & 0xff, n & 0xff};
  buffer_add(&p->to_ipc, header, 4);
  buffer_add(&p->to_ipc, (const uint8_t *)message->text, n);
  if (ring.fd < 0) write_ipc(p);
}

static void handle(const struct wire_value *message) {
  if (message->kind == W_BYTES) {
    relay_ipc(message);
    return;
  }
  const char *type = wire_string(message, "t");
  struct process *p = find_process((int)wire_number(message, "id", 0));
  if (!type) return;
  if (strcmp(type, "setup") == 0) setup(message);
  else if (strcmp(type, "exec") == 0) start_process(message, false);
  else if (strcmp(type, "fork") == 0) start_process(message, true);
  else if (strcmp(type, "signal") == 0) {
    int number = signal_number(wire_string(message, "signal"));
    if (p && number) signal_process(p, number);
  } else if (strcmp(type, "shutdown") == 0) {
    for (struct process *each = processes; each; each = each->next) signal_process(each, SIGKILL);
    _exit(0);
  }
}

/* Decoded messages, in order. */
struct messages {
  struct wire_value *items;
  size_t count;
  size_t capacity;
};

static void messages_add(struct messages *list, const struct wire_value *message) {
  if (list->count == list->capacity) {
    list->capacity = list->capacity ? 2 * list->capacity : 16;
    list->items = realloc(list->items, list->capacity * sizeof *list->items);
    if (!list->items) abort();
  }
  list->items[list->count++] = *message;
}

/* Takes the whole frames out of a buffer; a spooled one is read from its file. Returns how many were spooled. */
static int take_frames(struct frame_buffer *buffer, struct messages *out);

/* The frames in a spool file the host wrote (whole frames, as on the line). */
static void read_spooled(int seq, struct messages *out) {
  char path[128];
  snprintf(path, sizeof path, "%s/%d", SPOOL_DIR, seq);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    send_agent_error("a spooled frame's file is missing");
    return;
  }
  /* Into one buffer of the file's size: a megabyte in one read, not sixteen into a doubling buffer. */
  struct stat info;
  size_t first = fstat(fd, &info) == 0 && info.st_size > 0 ? (size_t)info.st_size + 1 : READ_BYTES;
  struct frame_buffer file = {0};
  ssize_t n;
  do {
    wire_reserve(&file.data, &file.capacity, file.end + 1, first);
    n = read(fd, file.data + file.end, file.capacity - file.end);
    if (n > 0) file.end += (size_t)n;
  } while (n > 0 || (n < 0 && errno == EINTR));
  close(fd);
  take_frames(&file, out);
  free(file.data);
}

static int take_frames(struct frame_buffer *buffer, struct messages *out) {
  int spooled = 0;
  long length;
  while ((length = next_frame(buffer)) != FRAME_INCOMPLETE) {
    if (length == FRAME_TOO_LARGE) {
      send_agent_error("the host sent a frame over 256 MiB: the channel is out of step");
      _exit(1);
    }
    const uint8_t *payload = buffer_front(buffer) + 4;
    uint8_t tag = length >= COMPACT_HEADER_BYTES ? payload[0] : 0;
    if (tag == COMPACT_SPOOLED_TAG) {
      uint32_t seq = read_be32(payload + 1);
      drop_front(buffer, 4 + (size_t)length);
      spooled++;
      read_spooled((int)seq, out);
      continue;
    }
    struct wire_value message = {0};
    bool ok = true;
    if (tag == COMPACT_IPC_TAG) {
      /* An IPC message is kept as bare bytes, its process's id in `number` (see relay_ipc). */
      message.kind = W_BYTES;
      message.number = read_be32(payload + 1);
      message.length = (size_t)length - COMPACT_HEADER_BYTES;
      if (!(message.text = malloc(message.length ? message.length : 1))) abort();
      memcpy(message.text, payload + COMPACT_HEADER_BYTES, message.length);
    } else ok = wire_decode(payload, (size_t)length, &message);
    drop_front(buffer, 4 + (size_t)length);
    if (!ok) send_agent_error("the host sent a frame the agent cannot decode");
    else messages_add(out, &message);
  }
  return spooled;
}

static size_t unacknowledged;
static struct frame_buffer line;

/*
 * Bytes from the line: its whole frames are decoded, spooled ones read from their files, then
 * the bytes read are acknowledged if enough are, or spool files were read (the host's cue to send
 * more, and to delete those files), then the messages are handled in order.
 */
static void line_input(const uint8_t *bytes, size_t size) {
  buffer_add(&line, bytes, size);
  struct messages messages = {0};
  int spooled = take_frames(&line, &messages);
  unacknowledged += size;
  if (spooled || unacknowledged >= ACK_AFTER_BYTES) {
    begin("ack");
    wire_put_key(&frame, "bytes");
    wire_put_int(&frame, (int32_t)unacknowledged);
    if (spooled) {
      wire_put_key(&frame, "spooled");
      wire_put_int(&frame, spooled);
    }
    send_frame(spooled ? 3 : 2);
    unacknowledged = 0;
  }
  for (size_t i = 0; i < messages.count; i++) {
    handle(&messages.items[i]);
    wire_free(&messages.items[i]);
  }
  free(messages.items);
}

/* What a read of the line returned: the host is gone at its end or on an error. */
static void line_read(const uint8_t *bytes, ssize_t n, int error) {
  if (n > 0) line_input(bytes, (size_t)n);
  else if (n == 0 || (error != EINTR && error != EAGAIN)) _exit(1);
}

static void reap(int signals) {
  struct signalfd_siginfo info;
  while (read(signals, &info, sizeof info) > 0) {
  }
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (struct process *p = processes; p; p = p->next) {
      if (p->pid == pid && !p->ended) {
        p->ended = true;
        p->status = status;
        finish_if_done(p);
        break;
      }
    }
  }
}

static void read_output(struct process *p, int stream) {
  uint8_t chunk[READ_BYTES];
  ssize_t n = read(p->out[stream], chunk, sizeof chunk);
  if (n < 0 && errno == EINTR) return;
  if (n > 0) {
    send_bytes(stream ? "stderr" : "stdout", p->id, "data", chunk, (size_t)n);
    return;
  }
  close(p->out[stream]);
  p->out[stream] = -1;
  finish_if_done(p);
}

/* The earliest SIGKILL due, -1 if none. */
static long long next_kill(void) {
  long long wake = -1;
  for (struct process *p = processes; p; p = p->next)
    if (p->kill_at && !p->ended && (wake < 0 || p->kill_at < wake)) wake = p->kill_at;
  return wake;
}

static void kill_overdue(void) {
  long long now = now_ms();
  for (struct process *p = processes; p; p = p->next) {
    if (p->kill_at && now >= p->kill_at) {
      p->kill_at = 0;
      if (!p->ended) kill(p->pid, SIGKILL);
    }
  }
}

static void poll_loop(int signals) {
  for (;;) {
    size_t count = 2;
    for (struct process *p = processes; p; p = p->next) count += 3;
    struct pollfd fds[count];
    struct process *owners[count];
    int streams[count];
    size_t n = 0;
    fds[n++] = (struct pollfd){.fd = line_fd, .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = signals, .events = POLLIN};
    for (struct process *p = processes; p; p = p->next) {
      for (int stream = 0; stream < 2; stream++) {
        if (p->out[stream] < 0) continue;
        owners[n] = p;
        streams[n] = stream;
        fds[n++] = (struct pollfd){.fd = p->out[stream], .events = POLLIN};
      }
      if (p->ipc >= 0) {
        owners[n] = p;
        streams[n] = 2;
        fds[n++] = (struct pollfd){.fd = p->ipc, .events = POLLIN | (buffer_size(&p->to_ipc) ? POLLOUT : 0)};
      }
    }
    long long wake = next_kill();
    long long timeout = wake < 0 ? -1 : wake - now_ms();
    if (poll(fds, n, timeout < 0 && wake >= 0 ? 0 : (int)timeout) < 0 && errno != EINTR) _exit(1);
    if (fds[0].revents) {
      uint8_t chunk[READ_BYTES];
      ssize_t read_bytes = read(line_fd, chunk, sizeof chunk);
      line_read(chunk, read_bytes, errno);
    }
    if (fds[1].revents) reap(signals);
    for (size_t i = 2; i < n; i++) {
      if (!fds[i].revents) continue;
      /* The process may have finished (and gone) in this turn already. */
      struct process *p = processes;
      while (p && p != owners[i]) p = p->next;
      if (!p) continue;
      if (streams[i] < 2 && p->out[streams[i]] == fds[i].fd) read_output(p, streams[i]);
      else if (streams[i] == 2 && p->ipc == fds[i].fd) {
        if (fds[i].revents & POLLOUT) write_ipc(p);
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) read_ipc(p, false);
      }
    }
    /* Only with a kill due: a clock read is a system call in a guest, and the loop turns per message. */
    if (wake >= 0) kill_overdue();
  }
}

/* Posts what each process waits for: its output streams polled, its channel read, what is queued for it sent. */
static void arm_processes(void) {
  for (struct process *p = processes; p; p = p->next) {
    for (int stream = 0; stream < 2; stream++) {
      if (p->out[stream] < 0 || p->polling[stream]) continue;
      ring_add(IORING_OP_POLL_ADD, p->out[stream], NULL, 0, POLLIN, request_of(p, OUTPUT_READY + stream));
      p->polling[stream] = true;
    }
    if (p->ipc < 0 || done(p)) continue;
    if (!p->reading_ipc) {
      if (!p->ipc_chunk && !(p->ipc_chunk = malloc(READ_BYTES))) abort();
      ring_add(IORING_OP_READ, p->ipc, p->ipc_chunk, READ_BYTES, 0, request_of(p, IPC_READ));
      p->reading_ipc = true;
    }
    /* One send at a time, so bytes stay in order: the rest of a short one (cut short by an error)
     * first. MSG_WAITALL: a send larger than the socket's room completes once, when all is sent,
     * not at once with part of it, which would leave the loop waiting for another event. */
    if (!p->sending_ipc && !buffer_size(&p->ipc_sending)) {
      struct frame_buffer queued = p->to_ipc;
      p->to_ipc = p->ipc_sending;
      p->ipc_sending = queued;
    }
    if (!p->sending_ipc && buffer_size(&p->ipc_sending)) {
      ring_add(IORING_OP_SEND, p->ipc, buffer_front(&p->ipc_sending), (unsigned)buffer_size(&p->ipc_sending),
               MSG_NOSIGNAL | MSG_WAITALL, request_of(p, IPC_SEND));
      p->sending_ipc = true;
    }
  }
}

/*
 * A process's request is back (`result` as a system call's, or -errno). Handling it may finish the
 * process, and free it: nothing touches it after.
 */
static void process_request_done(struct process *p, unsigned kind, int result) {
  bool *in_flight =
      kind == IPC_READ ? &p->reading_ipc : kind == IPC_SEND ? &p->sending_ipc : &p->polling[kind - OUTPUT_READY];
  *in_flight = false;
  if (p->forgotten) {
    release(p);
    return;
  }
  if (kind == IPC_SEND) {
    if (result > 0) drop_front(&p->ipc_sending, (size_t)result);
    else if (result != -EINTR && result != -EAGAIN) {
      /* It disconnected (or the write was called off with its channel). */
      drop_front(&p->ipc_sending, buffer_size(&p->ipc_sending));
      drop_front(&p->to_ipc, buffer_size(&p->to_ipc));
    }
  } else if (kind == IPC_READ) {
    if (p->ipc >= 0 && result > 0) ipc_input(p, p->ipc_chunk, (size_t)result);
    else if (p->ipc >= 0 && result != -EINTR && result != -EAGAIN && result != -ECANCELED) close_ipc(p);
    finish_if_done(p);
  } else if (p->out[kind - OUTPUT_READY] >= 0) read_output(p, (int)(kind - OUTPUT_READY));
}

static void ring_loop(int signals) {
  static uint8_t line_chunk[READ_BYTES];
  static struct __kernel_timespec kill_delay;
  bool reading_line = false, polling_signals = false, timing = false;
  for (;;) {
    if (!reading_line) ring_add(IORING_OP_READ, line_fd, line_chunk, sizeof line_chunk, 0, LINE_READ);
    if (!polling_signals) ring_add(IORING_OP_POLL_ADD, signals, NULL, 0, POLLIN, SIGNALS_READY);
    reading_line = polling_signals = true;
    arm_processes();
    long long wake = timing ? -1 : next_kill();
    if (wake >= 0) {
      long long delay = wake - now_ms();
      kill_delay = (struct __kernel_timespec){.tv_sec = delay > 0 ? delay / 1000 : 0,
                                              .tv_nsec = delay > 0 ? delay % 1000 * 1000000 : 0};
      ring_add(IORING_OP_TIMEOUT, -1, &kill_delay, 1, 0, KILL_DUE);
      timing = true;
    }
    ring_enter(true);
    ring.sends = 0;
    unsigned head = *ring.cq_head;
    for (; head != __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE); head++) {
      struct io_uring_cqe done_request = ring.cqes[head & ring.cq_mask];
      __atomic_store_n(ring.cq_head, head + 1, __ATOMIC_RELEASE);
      unsigned kind = done_request.user_data & KIND_BITS;
      struct process *p = (struct process *)(uintptr_t)(done_request.user_data & ~(uint64_t)KIND_BITS);
      if (p) process_request_done(p, kind, done_request.res);
      else if (kind == LINE_READ) {
        reading_line = false;
        line_read(line_chunk, done_request.res < 0 ? -1 : done_request.res, -done_request.res);
      } else if (kind == SIGNALS_READY) {
        polling_signals = false;
        reap(signals);
      } else if (kind == KILL_DUE) {
        timing = false;
        kill_overdue();
      }
    }
  }
}

int main(void) {
  /* Large buffers (a spooled megabyte) from a heap that is kept, not fresh pages each time. */
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child, NULL);
  signal(SIGPIPE, SIG_IGN);
  int signals = signalfd(-1, &child, SFD_NONBLOCK | SFD_CLOEXEC);
  open_line();
  hold_node_runtime();
  begin("hello");
  send_frame(1);
  if (ring_setup()) ring_loop(signals);
  else poll_loop(signals);
}
