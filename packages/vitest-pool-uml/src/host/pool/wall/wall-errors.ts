import { UmlError } from '../../core/index.js'

/**
 * A message no Vitest worker sends: the guest is stopped and its file fails with this. What a
 * compromised guest does; a bug in vitest-pool-uml otherwise.
 */
export function protocolViolation(what: string): UmlError {
  return new UmlError(
    'UML_GUEST_PROTOCOL',
    `The guest sent the host something no Vitest worker sends (${what}), so its guest was stopped and its test file failed. Code in the guest tampered with the worker's channel to the host; if the test does nothing of the kind, report this as a bug in vitest-pool-uml.`,
    { details: { violation: what } },
  )
}

/** A request the host turns down; the test that made it fails with this message, the run goes on. */
export function accessDenied(what: string, why: string, fix: string): UmlError {
  return new UmlError('UML_HOST_ACCESS_DENIED', `vitest-uml: the guest may not ${what}: ${why}. ${fix}`, {
    details: { what, why },
  })
}
