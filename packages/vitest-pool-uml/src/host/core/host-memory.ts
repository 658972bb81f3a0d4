import { totalmem } from 'node:os'

/**
 * The host's RAM in MiB: the most guest memory one guest may be given. Guest memory is a file on a
 * tmpfs, used as touched, so a size beyond it boots and then fails at random once the guest uses it.
 */
export function hostMemoryMiB(): number {
  return Math.floor(totalmem() / 1024 / 1024)
}
