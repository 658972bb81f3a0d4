#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages vitest-uml runs on the host (each tool's package is also named
# in packages/vitest-pool-uml/src/host/core/host-tools.ts, which a unit test holds to this list),
# through sudo unless this shell is root already, as in containers and CI images that have no sudo.
set -euo pipefail

packages=(
  bubblewrap mmdebstrap patchelf e2fsprogs uidmap dpkg tar util-linux mount coreutils
  xz-utils zstd ca-certificates debian-archive-keyring slirp4netns perl-base
)
# To build UML kernels from source (`vitest-uml kernels build`, `kernel: 'custom-7.2'`; the
# project's own tests build one): KERNEL_BUILD_TOOLS in packages/vitest-pool-uml/src/host/core/host-tools.ts.
# gcc and libc6-dev also build the guest programs (src/guest: the agent, a static program, and the
# guest Node's shim) when the package is built from source.
kernel_build_packages=(gcc make flex bison bc gzip libc6-dev)

as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${packages[@]}" "${kernel_build_packages[@]}"

# UML maps each page of a guest process into its host process on its own: a guest process with more
# than vm.max_map_count scattered pages (Debian's 65530: about 256 MiB, which WebAssembly runtimes
# and large heaps reach) would page-fault for ever. Raise it as Fedora, Ubuntu and Arch do, now and
# at boot; only ever raise it. A container may not let its root change it: say so and go on.
map_count=1048576
if [ "$(cat /proc/sys/vm/max_map_count)" -lt "$map_count" ]; then
  echo "vm.max_map_count = $map_count" | "${as_root[@]}" tee /etc/sysctl.d/60-vitest-uml.conf >/dev/null
  "${as_root[@]}" sysctl -q -w vm.max_map_count="$map_count" ||
    echo "vitest-uml: could not raise vm.max_map_count to $map_count; guests whose processes touch more than ~256 MiB will be stopped with UML_GUEST_MAP_LIMIT" >&2
fi
