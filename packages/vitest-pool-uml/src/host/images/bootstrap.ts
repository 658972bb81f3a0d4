import { requireHostTool } from '../core/index.js'
import type { Recipe } from './recipe-schema.js'
import { runTool } from './run-tool.js'

/**
 * Installed in every image built from a Debian suite, over minbase (which is what Docker's
 * `debian:*-slim` images hold): what a test expects of a plain Debian system. CA certificates
 * (TLS clients refuse to start without a trust store), netbase (/etc/services, /etc/protocols),
 * tzdata (time zones), procps (ps, kill, pgrep: process-tree tools call them) and kmod
 * (modprobe, which also loads overlayfs at boot).
 */
export const BASE_PACKAGES = ['ca-certificates', 'netbase', 'tzdata', 'procps', 'kmod']

/** What mmdebstrap installs over the variant: the base packages, then the recipe's own. */
export function imagePackages(recipe: Pick<Recipe, 'packages'>): string[] {
  return [...new Set([...BASE_PACKAGES, ...recipe.packages])]
}

export interface BootstrapOptions {
  mirror: string
  /** Also show mmdebstrap's output live (someone is watching a terminal). */
  verbose: boolean
  /**
   * mmdebstrap's TMPDIR, where it assembles the system: inside the cache entry being built, so a
   * killed build leaves nothing outside it (the next start removes it) and TMPDIR does not matter.
   */
  workDir: string
}

/**
 * Installs the recipe's Debian system into a tarball with mmdebstrap, which picks its root mode
 * when run as root and its unshare mode otherwise; either way the tar headers carry the right
 * owners and modes.
 */
export async function bootstrapTarball(recipe: Recipe, output: string, options: BootstrapOptions): Promise<void> {
  const mmdebstrap = await requireHostTool('mmdebstrap', 'to build Debian guest images')
  // No --quiet even when nobody watches: its output is only captured then, and --quiet would
  // hide apt's own error lines ("Could not connect to ...") that make a failure explainable.
  // Signatures are still checked; only the Release file's expiry is not, because mirrors that
  // serve a frozen snapshot (as on our CI machines) would otherwise refuse sid within weeks.
  const args = [`--variant=${recipe.variant}`, '--format=tar', '--aptopt=Acquire::Check-Valid-Until "false"']
  args.push(`--include=${imagePackages(recipe).join(',')}`)
  args.push(recipe.suite, output, options.mirror)
  // As root, mmdebstrap mounts /proc, /sys and /dev in its chroot; in a mount namespace of its
  // own those mounts end with it, also when it is killed. Unprivileged, its unshare mode does this.
  const command: [string, string[]] =
    process.getuid?.() === 0
      ? [
          await requireHostTool('unshare', 'to build Debian guest images'),
          ['--mount', '--propagation', 'private', '--', mmdebstrap, ...args],
        ]
      : [mmdebstrap, args]
  await runTool(...command, {
    failureCode: 'UML_IMAGE_BUILD_FAILED',
    what: `mmdebstrap could not bootstrap Debian ${recipe.suite} for image ${recipe.name}`,
    fix: `Check network access to ${options.mirror} (or set VITEST_UML_DEBIAN_MIRROR to a reachable mirror) and the messages below.`,
    echoStderr: options.verbose,
    env: { TMPDIR: options.workDir },
  })
}
