/*
 * System calls without a C library, for the freestanding programs vitest-uml puts in guests
 * (node-shim.c; session.c and boot-mounts.c through guest-program.h): x86_64's calling
 * convention, the kernel's error as -errno.
 */
#ifndef VITEST_UML_RAW_SYSCALL_H
#define VITEST_UML_RAW_SYSCALL_H

static inline long sys5(long n, long a, long b, long c, long d, long e) {
  long r;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return r;
}

static inline long sys3(long n, long a, long b, long c) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

#endif
