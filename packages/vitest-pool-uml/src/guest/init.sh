#!/bin/sh
# The runtime's init, run by the image's /sbin/vitest-uml-init once the host runtime is mounted at
# /run/vitest-uml (paths mirror src/host/core/sandbox-layout.ts). The guest powers off when it
# returns.
# The clock first, so everything the guest does is dated from the date the host asked for.
[ -n "$vitest_uml_clock" ] && date -u -s "@$vitest_uml_clock" >/dev/null
# Mounts, /dev links, hostname, the pristine image (second disk, read-only) and the modules for
# overlayfs and IPv6: one program, as each program started costs tens of milliseconds in a guest.
/run/vitest-uml/agent/boot-mounts
# Loopback up, with 127.0.0.1 and ::1, in every guest. Minbase has neither ip nor ifconfig; the
# interface flags in sysfs need no tool.
read -r flags < /sys/class/net/lo/flags
echo $(( $flags | 1 )) > /sys/class/net/lo/flags
# The network option (network-up.sh): configured before the agent starts, which inherits the proxy.
[ -n "$vitest_uml_net" ] && . /run/vitest-uml/agent/network-up.sh
# The search path of the agent and of every command and worker it starts: the guest's own
# directories, then the host's Node runtime (mounted under /run/vitest-uml).
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/vitest-uml/node/bin
cd /root 2>/dev/null || cd /
case "$vitest_uml_mode" in
  shell)
    # con0 is the user's terminal; setsid -c makes it the shell's controlling tty for job control.
    if command -v bash >/dev/null; then shell=bash; else shell=sh; fi
    setsid -c "$shell" -l </dev/tty0 >/dev/tty0 2>&1 || "$shell" -l </dev/tty0 >/dev/tty0 2>&1
    ;;
  *)
    /run/vitest-uml/agent/agent
    ;;
esac
