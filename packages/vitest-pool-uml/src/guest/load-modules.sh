# Sourced by init.sh. load_modules NAME...: loads kernel modules and what they depend on from the
# guest kernel's own tree, as modprobe would, with whatever the userland has: insmod (kmod or
# busybox), else perl (Debian's minbase has perl but no kmod). A module built into the kernel is
# not in modules.dep and needs nothing; one already loaded is fine.
load_modules() {
  read -r release < /proc/sys/kernel/osrelease
  modules_dir=/run/vitest-uml/kernel/modules/$release
  [ -f "$modules_dir/modules.dep" ] || return 0
  # One grep for all the names (a module has one line of its own, `path: deps`).
  pattern=
  for name in "$@"; do pattern="$pattern${pattern:+|}$name"; done
  lines=$(grep -E "/($pattern)\.ko[.a-z]*:" "$modules_dir/modules.dep") || return 0
  paths=
  while read -r line; do
    # A line lists every dependency, the one to load last first: load them from the end.
    deps=
    for dep in ${line#*:}; do deps="$modules_dir/$dep $deps"; done
    paths="$paths $deps $modules_dir/${line%%:*}"
  done <<EOF
$lines
EOF
  [ -n "$paths" ] || return 0
  if command -v insmod >/dev/null; then
    for path in $paths; do insmod "$path" 2>/dev/null; done
  else
    # finit_module(2) is syscall 313 on x86_64, UML's only architecture.
    perl -e 'for (@ARGV) { open(my $f, "<", $_) or next; syscall(313, fileno($f), my $p = "", 0) }' $paths
  fi
}
