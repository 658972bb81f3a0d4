/** Where kernels and images come from unless VITEST_UML_DEBIAN_MIRROR or an option says otherwise. */
export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian'

/** The Debian mirror to use: the option given, else $VITEST_UML_DEBIAN_MIRROR, else Debian's own; no trailing slash. */
export function debianMirror(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  return (option ?? env.VITEST_UML_DEBIAN_MIRROR ?? DEFAULT_DEBIAN_MIRROR).replace(/\/+$/, '')
}
