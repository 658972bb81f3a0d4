import { readFileSync } from 'node:fs'

/**
 * The lowest tick rate of the guest kernels (UML's default, 100 Hz): a jiffy's worth of loops at
 * this rate is too many for a faster tick, so a guest's busy-wait errs long, never short.
 */
const SLOWEST_GUEST_HZ = 100

/**
 * Loops per jiffy of the guest kernel's delay loop (`lpj=`), from the host's BogoMIPS, which x86
 * derives from the TSC: two per MHz, as UML's delay loop runs one loop per cycle. Given it, a
 * guest skips calibrating the loop at boot (50-90 ms of busy CPU). Undefined without a figure.
 */
export function loopsPerJiffy(cpuinfo: string): number | undefined {
  const bogomips = Number(/^bogomips\s*:\s*([\d.]+)$/im.exec(cpuinfo)?.[1])
  return bogomips > 0 ? Math.round((bogomips * 500_000) / SLOWEST_GUEST_HZ) : undefined
}

let hostLoops: { value: number | undefined } | undefined

/** `loopsPerJiffy` of this host, read once. */
export function hostLoopsPerJiffy(): number | undefined {
  hostLoops ??= { value: loopsPerJiffy(readFileSync('/proc/cpuinfo', 'utf8')) }
  return hostLoops.value
}
