import { UmlError } from '../core/index.js'
import { MANIFEST } from './manifest.js'
import type { KernelPin } from './manifest-schema.js'

/** The kernel used when none is named. */
export const DEFAULT_KERNEL: string = MANIFEST.default

/** The kernel names users can pick, oldest first. */
export const KERNEL_NAMES: readonly string[] = Object.keys(MANIFEST.kernels).sort((a, b) =>
  a.localeCompare(b, 'en', { numeric: true }),
)

export function getKernelPin(name: string): KernelPin {
  const pin = MANIFEST.kernels[name]
  if (pin) return pin
  throw new UmlError(
    'UML_KERNEL_UNKNOWN',
    `There is no kernel named "${name}". Pick one of: ${KERNEL_NAMES.join(', ')} (default ${DEFAULT_KERNEL}).`,
    { details: { name, known: KERNEL_NAMES } },
  )
}
