import { UmlError } from '../core/index.js'

/** The glibc version this process runs on ("2.36"), or undefined on a host without glibc. */
export function getHostGlibcVersion(): string | undefined {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } }
  return report.header?.glibcVersionRuntime
}

/** A kernel that borrows the host's C library needs a host glibc at least as new as the one it was built against. */
export function assertHostGlibc(kernel: string, minGlibc: string, pinnedKernels: readonly string[]): void {
  const host = getHostGlibcVersion()
  if (host !== undefined && compareVersions(host, minGlibc) >= 0) return
  const alternatives =
    pinnedKernels.length > 0 ? `use kernel ${pinnedKernels.join(' or ')} (they bring their own), or ` : ''
  throw new UmlError(
    'UML_KERNEL_START_FAILED',
    `Kernel ${kernel} runs on the host's C library and needs glibc >= ${minGlibc}, but this host has ` +
      `${host ? `glibc ${host}` : 'no glibc'}. To fix it, ${alternatives}run on a newer host.`,
    { details: { kernel, minGlibc, hostGlibc: host } },
  )
}

export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number)
  const right = b.split('.').map(Number)
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0)
    if (diff !== 0) return diff
  }
  return 0
}
