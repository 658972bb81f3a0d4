export const USAGE = `Usage: vitest-uml <command> [options]

Commands:
  run [--kernel K] [--image I] [--memory MiB] [--share DIR[:rw]] [--env K=V] [--cwd DIR] -- <cmd...>
                              Run a command as root in a fresh guest; exits with its status
  shell [--kernel K] [--image I] [--memory MiB]
                              An interactive root shell in a fresh guest
  kernels fetch [5.10|6.1|6.12|7.2|all]
                              Download, verify and prepare pinned kernels (default: 7.2)
  kernels list                Pinned kernels and which are cached
  images build <name>         Build a guest image from its recipe (debian-bullseye, -bookworm, -trixie, -sid)
  images import <rootfs.tar> --name <name>
                              Make a guest image from any root file system tarball
  images list                 Recipes and imported images, and which are built
  images rm <name>            Remove an image from the cache
  doctor                      Check that this host can run guests, and say how to fix what is missing

Kernels and images are kept in $XDG_CACHE_HOME/vitest-uml (else ~/.cache/vitest-uml).
Set VITEST_UML_DEBIAN_MIRROR to use another Debian mirror.`
