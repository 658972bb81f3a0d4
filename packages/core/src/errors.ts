/** Every error vitest-uml raises on purpose carries one of these codes; match on the code, never on the text. */
export type UmlErrorCode =
  | 'UML_INVALID_OPTIONS'
  | 'UML_HOST_TOOL_MISSING'
  | 'UML_WORK_DIR_UNUSABLE'
  | 'UML_MEMORY_UNAVAILABLE'
  | 'UML_KERNEL_UNKNOWN'
  | 'UML_KERNEL_NOT_FETCHED'
  | 'UML_KERNEL_FETCH_FAILED'
  | 'UML_KERNEL_HASH_MISMATCH'
  | 'UML_KERNEL_START_FAILED'
  | 'UML_IMAGE_UNKNOWN'
  | 'UML_IMAGE_NOT_BUILT'
  | 'UML_IMAGE_BUILD_FAILED'
  | 'UML_IMAGE_IMPORT_FAILED'
  | 'UML_IMAGE_CORRUPT'
  | 'UML_NODE_RUNTIME_FAILED'
  | 'UML_GUEST_BOOT_TIMEOUT'
  | 'UML_GUEST_PANIC'
  | 'UML_GUEST_EXITED'
  | 'UML_GUEST_KILLED'
  | 'UML_GUEST_DISK_FULL'
  | 'UML_GUEST_DISPOSED'
  | 'UML_GUEST_HUNG'
  | 'UML_GUEST_OUT_OF_MEMORY'
  | 'UML_WORKER_EXITED'
  | 'UML_GUEST_PROTOCOL'
  | 'UML_COMMAND_FAILED'

export interface UmlErrorOptions {
  /** What went wrong underneath, kept for debugging. */
  cause?: unknown
  /** Evidence: console tail, kernel command line, exit status, paths... */
  details?: Record<string, unknown>
}

/**
 * The one error class of vitest-uml. The message says what happened, why, and how to fix it;
 * `code` is stable; `details` carries the evidence.
 */
export class UmlError extends Error {
  override readonly name = 'UmlError'
  readonly code: UmlErrorCode
  readonly details: Record<string, unknown>

  constructor(code: UmlErrorCode, message: string, options: UmlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details ?? {}
  }
}

export function isUmlError(error: unknown, code?: UmlErrorCode): error is UmlError {
  return error instanceof UmlError && (code === undefined || error.code === code)
}
