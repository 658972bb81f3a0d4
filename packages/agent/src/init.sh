#!/bin/sh
# The runtime's init, run by the image's /sbin/vitest-uml-init once the host runtime is mounted at
# /run/vitest-uml (paths mirror packages/core/src/sandbox-layout.ts). The guest powers off when it
# returns.
mount -t sysfs sysfs /sys 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm 2>/dev/null
# devtmpfs lacks these; shells and Node expect them.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp 2>/dev/null
echo vitest-uml > /proc/sys/kernel/hostname
# The pristine image (second disk, read-only): what the root file system was at boot.
if [ -b /dev/ubdb ]; then mkdir -p /run/vitest-uml-base && mount -o ro /dev/ubdb /run/vitest-uml-base; fi
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up 2>/dev/null
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/vitest-uml/node/bin
cd /root 2>/dev/null || cd /
case "$vitest_uml_mode" in
  shell)
    # con0 is the user's terminal; setsid -c makes it the shell's controlling tty for job control.
    if command -v bash >/dev/null; then shell=bash; else shell=sh; fi
    setsid -c "$shell" -l </dev/tty0 >/dev/tty0 2>&1 || "$shell" -l </dev/tty0 >/dev/tty0 2>&1
    ;;
  *)
    /run/vitest-uml/node/bin/node /run/vitest-uml/agent/agent.mjs
    ;;
esac
