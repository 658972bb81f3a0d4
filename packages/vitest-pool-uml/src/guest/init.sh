#!/bin/sh
# The runtime's init, run by the image's /sbin/vitest-uml-init once the host runtime is mounted at
# /run/vitest-uml (paths mirror src/host/core/sandbox-layout.ts). The guest powers off when it
# returns.
# The clock first, so everything the guest does is dated from the date the host asked for.
[ -n "$vitest_uml_clock" ] && date -u -s "@$vitest_uml_clock" >/dev/null
mount -t sysfs sysfs /sys 2>/dev/null
# Each program started costs tens of milliseconds in a guest: one mkdir for all, builtins elsewhere.
base=
[ -b /dev/ubdb ] && base=/run/vitest-uml-base
mkdir -p /dev/pts /dev/shm $base
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts 2>/dev/null
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm 2>/dev/null
# devtmpfs lacks these; shells and Node expect them.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp 2>/dev/null
# Images carry /etc/hostname (and /etc/hosts to match): see src/host/images/guest-files.ts.
[ -s /etc/hostname ] && read -r hostname < /etc/hostname && echo "$hostname" > /proc/sys/kernel/hostname
# The pristine image (second disk, read-only): what the root file system was at boot.
[ -n "$base" ] && mount -o ro /dev/ubdb "$base"
# IPv6 is a module in the older Debian kernels; overlayfs (copy-on-write shares) in all of them.
. /run/vitest-uml/agent/load-modules.sh
load_modules ipv6 overlay
# Loopback up, with 127.0.0.1 and ::1, in every guest. Minbase has neither ip nor ifconfig; the
# interface flags in sysfs need no tool.
read -r flags < /sys/class/net/lo/flags
echo $(( $flags | 1 )) > /sys/class/net/lo/flags
# The network option (network-up.sh): configured before the agent starts, which inherits the proxy.
[ -n "$vitest_uml_net" ] && . /run/vitest-uml/agent/network-up.sh
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
