/*
 * Loads kernel modules, and the modules they need, from the guest kernel's own tree (the runtime's
 * kernel/modules/RELEASE, see src/host/core/sandbox-layout.ts) as modprobe would: modules.dep
 * lists a module's dependencies with the one to load first last. With finit_module(2), so an image
 * needs neither kmod nor perl, and no process is started (each costs 20-25 ms in a guest). A
 * module built into the kernel is not in modules.dep and needs nothing; one already loaded is fine.
 */
#ifndef VITEST_UML_LOAD_MODULES_H
#define VITEST_UML_LOAD_MODULES_H
#include "guest-program.h"

#define SYS_FINIT_MODULE 313
#define MODULES_DIR "/run/vitest-uml/kernel/modules/"
#define MAX_DEPENDENCIES 64

/* Loads DIR/PATH, PATH being the bytes from `start` to `end` of a modules.dep line. */
static inline void load_module_file(const char *dir, const char *start, const char *end) {
  static char relative[PATH_BYTES], path[PATH_BYTES];
  size_t n = (size_t)(end - start);
  if (n + 1 >= PATH_BYTES) return;
  for (size_t i = 0; i < n; i++) relative[i] = start[i];
  relative[n] = 0;
  long fd = sys3(SYS_OPEN, (long)JOIN(path, dir, "/", relative), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return;
  sys3(SYS_FINIT_MODULE, fd, (long)"", 0);
  sys3(SYS_CLOSE, fd, 0, 0);
}

/* Whether the modules.dep path from `start` to `end` (kernel/fs/overlayfs/overlay.ko) is NAME's. */
static inline int is_module(const char *start, const char *end, const char *name) {
  const char *base = start;
  for (const char *p = start; p < end; p++)
    if (*p == '/') base = p + 1;
  size_t n = length_of(name);
  return (size_t)(end - base) > n && starts_with(base, name) && starts_with(base + n, ".ko");
}

/* Loads the modules NAMES (a list ending in 0) that the kernel has as modules. */
static inline void load_modules(const char *const names[]) {
  static char release[256], dir[PATH_BYTES], depfile[PATH_BYTES], dep[1 << 20];
  if (!read_file("/proc/sys/kernel/osrelease", release, sizeof release)) return;
  for (char *p = release; *p; p++)
    if (*p == '\n') *p = 0;
  JOIN(dir, MODULES_DIR, release);
  if (!read_file(JOIN(depfile, dir, "/modules.dep"), dep, sizeof dep)) return;
  for (char *line = dep; *line;) {
    char *end = line, *colon = line;
    while (*end && *end != '\n') end++;
    while (colon < end && *colon != ':') colon++;
    for (const char *const *name = names; colon < end && *name; name++) {
      if (!is_module(line, colon, *name)) continue;
      const char *starts[MAX_DEPENDENCIES], *ends[MAX_DEPENDENCIES];
      int count = 0;
      for (char *p = colon + 1; p < end && count < MAX_DEPENDENCIES;) {
        while (p < end && *p == ' ') p++;
        starts[count] = p;
        while (p < end && *p != ' ') p++;
        if (p > starts[count]) ends[count++] = p;
      }
      while (count-- > 0) load_module_file(dir, starts[count], ends[count]);
      load_module_file(dir, line, colon);
    }
    line = *end ? end + 1 : end;
  }
}

#endif
