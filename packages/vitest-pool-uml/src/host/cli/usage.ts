import { listRecipes } from '../images/index.js'
import { builtinRecipeNames, DEFAULT_KERNEL, KERNEL_NAMES, MANIFEST } from '../kernels/index.js'

/** The help text, naming the pinned kernels and the image recipes this build ships. */
export async function usage(): Promise<string> {
  const recipes = (await listRecipes()).map((recipe) => recipe.name)
  return `Usage: vitest-uml <command> [options]

Commands:
  run [--kernel K] [--image I] [--memory MiB] [TIME] [NETWORK] [--share DIR[:rw]] [--env K=V] [--cwd DIR] -- <cmd...>
                              Run a command as root in a fresh guest; exits with its status
  shell [--kernel K] [--image I] [--memory MiB] [TIME] [NETWORK]
                              An interactive root shell in a fresh guest
  kernels fetch [${[...KERNEL_NAMES, 'all'].join('|')}]
                              Download, verify and prepare pinned kernels (default: ${DEFAULT_KERNEL})
  kernels build ${builtinRecipeNames().join('|')}
                              Build a kernel from Debian's pinned source with the default guest config
  kernels build <name> [--source ${Object.keys(MANIFEST.sources).join('|')}|TARBALL|URL --sha256 HEX] [--config FRAGMENT] [--modules]
                              Build a kernel of your own, then use it as --kernel <name>
  kernels list                Pinned and built kernels, and which are cached
  images build <name>         Build a guest image from its recipe:
                              ${recipes.join(', ')}
  images pull <ref> [--update] [--lock FILE]
                              Pull an image from an OCI registry (docker.io/library/alpine:3.21), pinning its
                              digest in ./vitest-uml.lock.json; --update resolves a pinned tag again
  images import <path> --name <name>
                              Make a guest image from a root file system tarball, \`docker save\`
                              output or an OCI image layout
  images list                 Recipes and imported images, and which are built
  images rm <name>            Remove an image from the cache
  doctor                      Check that this host can run guests, and say how to fix what is missing
  cache-key [--lock FILE] [FILE...]
                              A key for CI caches of the cache directory: changes with the pinned kernels,
                              the image recipes, the lock file and the files named

NETWORK: --network (outbound TCP/UDP and DNS), --allow HOST[:PORT] (only these hosts, through a
proxy; repeatable), --forward PORT or GUESTPORT:HOSTPORT (a port of this host's loopback, at
host.vitest-uml.internal in the guest; repeatable). Without them a guest has loopback only.

TIME: --time virtual (guest clock jumps to the next timer when the guest is idle; a kernel built
with time travel, such as ${builtinRecipeNames()[0]}), --clock DATE (the guest clock starts at an ISO date).

Kernels and images are kept in $XDG_CACHE_HOME/vitest-uml (else ~/.cache/vitest-uml).
Set VITEST_UML_DEBIAN_MIRROR to use another Debian mirror.`
}
