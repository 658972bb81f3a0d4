#!/bin/sh
# Runs a program in a fresh session of an already booted guest: new mount, PID, UTS and IPC
# namespaces, and a root file system that is the pristine image (the read-only second disk, which
# the runtime's init mounts at /run/vitest-uml-base) under a fresh, empty upper layer. The guest's
# mounts are made again in it as a fresh guest has them: the hostfs shares bound in, each
# copy-on-write share under an upper layer of its own, files the guest binds over the image
# (/etc/hosts, /etc/resolv.conf) copied. The upper layers live in DIR, on the guest's disk (they
# count against its disk limit, as a fresh guest's writes do), which the agent makes empty and
# removes once the session is over. The session ends with its program: every process it left goes
# with it, and so do its mounts and everything it wrote.
#   session.sh DIR CWD UID GID PROGRAM [ARGS...]      (UID GID: numbers; 0 0 for root)
# The agent starts it with the program's environment (and a forked Node's IPC descriptor).
set -e
base=/run/vitest-uml-base
if [ "$1" != --inside ]; then
  if ! mountpoint -q "$base"; then
    echo "vitest-uml: no pristine image at $base to start a session from (a guest booted from a writable image has none)" >&2
    exit 125
  fi
  if ! grep -q '	overlay$' /proc/filesystems; then
    . "$(dirname "$0")/load-modules.sh"
    load_modules overlay
  fi
  if ! grep -q '	overlay$' /proc/filesystems; then
    echo "vitest-uml: sessions need overlayfs, which this guest kernel lacks" >&2
    exit 125
  fi
  exec unshare --mount --pid --uts --ipc --fork --kill-child --propagation private /bin/sh "$0" --inside "$@"
fi
shift
dir=$1 cwd=$2 uid=$3 gid=$4
shift 4
# The guest's own mounts, in the order it made them, read before the session adds its own.
# mountinfo: the mount point is field 5; after " - " come the type, the source and the super
# options; paths escape spaces and the like as \NNN.
mounts=$(awk '{
  for (i = 7; i < NF; i++) if ($i == "-") break
  p = $5; gsub(/\\040/, " ", p); gsub(/\\011/, "\t", p); gsub(/\\134/, "\\", p)
  if ($(i + 1) == "hostfs") print "bind\t" p
  else if ($(i + 1) == "overlay" && match($(i + 3), /lowerdir=\/run\/vitest-uml-lower\/[0-9]+/))
    print "cow\t" p "\t" substr($(i + 3), RSTART + 9, RLENGTH - 9)
  else if (p != "/") print "other\t" p
}' /proc/self/mountinfo)
root=$dir/root
mkdir "$dir/upper" "$dir/work" "$root" "$dir/shares"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$dir/upper,workdir=$dir/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o nosuid,nodev session-shm "$root/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=1777 session-tmp "$root/tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev session-run "$root/run"
mkdir "$root$base"
mount --bind "$base" "$root$base"
share=0
printf '%s\n' "$mounts" | while IFS='	' read -r kind target lower; do
  case $kind in
    bind)
      mkdir -p "$root$target"
      mount --rbind "$target" "$root$target"
      ;;
    cow)
      share=$((share + 1))
      mkdir -p "$dir/shares/$share/upper" "$dir/shares/$share/work" "$root$target"
      mount -t overlay overlay -o "lowerdir=$lower,upperdir=$dir/shares/$share/upper,workdir=$dir/shares/$share/work" "$root$target"
      ;;
    other)
      # A file bound over the image: the session gets a copy of its own at the same path.
      if [ -f "$target" ]; then
        share=$((share + 1))
        cp "$target" "$dir/shares/$share.file"
        [ -f "$root$target" ] || : > "$root$target"
        mount --bind "$dir/shares/$share.file" "$root$target"
      fi
      ;;
  esac
done
# The image's hostname, as the guest's init sets it.
if [ -s "$base/etc/hostname" ]; then read -r name < "$base/etc/hostname" && echo "$name" > /proc/sys/kernel/hostname; fi
cd "$root"
pivot_root . .
umount -l .
cd /
if [ "$uid" != 0 ]; then set -- setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"; fi
# This shell is PID 1 of the session, as init is of a guest: it starts the program in its working
# directory, passes SIGTERM and SIGINT on to it, reaps what is orphaned (as a guest's init does,
# so a daemon that exited does not linger as a zombie), and ends with the program's status, a
# signal N as 128 + N (the agent reports it as the signal). The program is not PID 1, so it can be
# killed from inside the session, and signals act on it as in a guest.
trap 'kill -TERM "$program" 2>/dev/null' TERM
trap 'kill -INT "$program" 2>/dev/null' INT
set +e
/bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@" &
program=$!
while :; do
  wait "$program"
  status=$?
  # A trapped signal ends the wait early, while the program still runs.
  kill -0 "$program" 2>/dev/null || break
done
exit "$status"
