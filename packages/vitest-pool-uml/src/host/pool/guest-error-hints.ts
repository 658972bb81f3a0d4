/** Added to an EROFS error a test met in its guest: with forks the same write would have worked. */
export const READ_ONLY_HINT =
  'vitest-uml: this path is read-only in the guest. It is in a share without `writable: true` (set it in uml({ shares }) to let writes reach the host), or in the project on kernel 5.10, whose hostfs cannot serve the copy-on-write view other kernels give.'

/**
 * Says, in the message of an error a test met in its guest, what in the guest caused it when
 * forks would not have met it, and the option that changes it. Changes the error in place.
 */
export function addGuestHint<T>(error: T): T {
  if (typeof error !== 'object' || error === null) return error
  const record = error as { code?: unknown; message?: unknown; stack?: unknown }
  if (record.code !== 'EROFS' || typeof record.message !== 'string' || record.message.includes(READ_ONLY_HINT)) {
    return error
  }
  const hinted = `${record.message}\n${READ_ONLY_HINT}`
  // Reporters print the stack (JSON, JUnit) or the message (the terminal): both say it.
  if (typeof record.stack === 'string') record.stack = record.stack.replace(record.message, hinted)
  record.message = hinted
  return error
}
