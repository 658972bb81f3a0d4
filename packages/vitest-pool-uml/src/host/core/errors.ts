/** One problem with an option or argument, as zod reports it. */
export interface OptionIssue {
  path: readonly PropertyKey[]
  message: string
}

/** What a guest's failure carries: the console tail and how the kernel was started. */
export interface GuestFailureDetails {
  consoleTail: string
  commandLine: string[]
  /** The UML process's exit status (128 + n for signal n); absent while it still runs. */
  exitCode?: number | null | undefined
}

/** What a dead test worker carries. */
export interface WorkerExitDetails {
  consoleTail: string
  code: number | null
  signal: string | null
}

/** What a failed image build or import carries, by the step that failed. */
export type ImageFailureDetails =
  /** A host tool (mmdebstrap, tar, mke2fs) failed. */
  | { command: string[]; exitCode: number | undefined; stderrTail: string }
  /** The tarball is not a usable root file system. */
  | { origin: string; problems: string[] }
  /** Its files do not fit in a guest image. */
  | { origin: string; dataBytes: number; limit: number }
  /** No user namespace with the user's subordinate ids. */
  | { user: string; stderr: string }
  /** A derived image's setup script failed, or its result did not pass e2fsck. */
  | { name: string; exitCode?: number | null; output?: string }
  /** The tarball to import cannot be read. */
  | { tarball: string }
  /** An image's layers, manifest or configuration cannot be used (pulls and image archives). */
  | { ref: string; digest?: string; mediaType?: string; issues?: readonly OptionIssue[] }
  | { layer: number; path: string }
  | { problems: string[] }

/** What a failed request to a registry carries. */
export interface RegistryResponseDetails {
  url: string
  status?: number
  body?: string
}

/** For codes whose evidence is the message alone. */
type NoDetails = Record<string, never>

/**
 * Every code vitest-uml raises on purpose, with the type of the evidence in `details`. Match on
 * the code (never on the text); `isUmlError(error, code)` then gives `details` its type.
 */
export interface UmlErrorDetails {
  UML_INVALID_OPTIONS: {
    issues?: readonly OptionIssue[]
    configFile?: string | undefined
    /** The recipe, image or Vitest project the options belong to. */
    name?: string
    share?: string
    project?: string
    matrix?: unknown
    /** An image reference, or the lock file that pins references. */
    ref?: string
    lockFile?: string
    /** A file the options name (a kernel config fragment, a source tarball), and the bad line in it. */
    path?: string
    line?: number
  }
  UML_HOST_TOOL_MISSING: { tool: string; package: string }
  UML_WORK_DIR_UNUSABLE: { dir: string; detail: string; fix: string }
  UML_MEMORY_UNAVAILABLE: { memoryMiB: number; hostMiB: number }
  UML_KERNEL_UNKNOWN: { name: string; known: readonly string[] }
  UML_KERNEL_NOT_FETCHED: { name: string; cacheDir: string }
  UML_KERNEL_FETCH_FAILED:
    | { package: string; version: string; mirror?: string; url?: string; status?: number }
    | { url: string }
    | { name: string; dir: string }
    | { deb: string; dir: string; output: string | undefined }
    | { kernel: string; releases: string[] }
  UML_KERNEL_HASH_MISMATCH: ({ url: string } | { path: string }) & { expected: string; got: string }
  UML_KERNEL_START_FAILED:
    | { kernel: string; minGlibc: string; hostGlibc: string | undefined }
    | { kernel: string; library: string; searched: readonly string[] }
    | { kernel: string; entryDir: string; exitCode: number | undefined; signal: string | undefined; output: string }
  UML_KERNEL_BUILD_FAILED:
    | { kernel: string; logPath: string; step?: string; exitCode?: number | undefined }
    | { name: string; dir: string }
  UML_KERNEL_CONFIG_REJECTED: {
    kernel: string
    /** Each option the final .config lacks: what was asked, what it got, and why guests need it. */
    lost: readonly { name: string; wanted: string; got: string; why?: string | undefined }[]
    logPath: string
  }
  UML_KERNEL_NO_TIME_TRAVEL: { kernel: string }
  UML_IMAGE_UNKNOWN: { name: string; recipes: string[] } | { searched: string[] }
  UML_IMAGE_NOT_BUILT: { name: string; cacheDir: string; expected: string } | { imagePath: string }
  UML_IMAGE_BUILD_FAILED: ImageFailureDetails
  UML_IMAGE_IMPORT_FAILED: ImageFailureDetails
  UML_IMAGE_CORRUPT: { dir: string } | { imagePath: string }
  UML_IMAGE_UNUSABLE: { origin: string; missing: string[] }
  UML_IMAGE_PULL_FAILED: ImageFailureDetails
  UML_IMAGE_NOT_FOUND: RegistryResponseDetails
  UML_IMAGE_NOT_PINNED: { ref: string; lockFile: string | undefined }
  UML_IMAGE_PLATFORM_MISSING: { ref: string; offered: string }
  UML_IMAGE_DIGEST_MISMATCH: { expected: string; actual: string } & ({ ref: string } | { layer: number })
  UML_REGISTRY_AUTH_FAILED: RegistryResponseDetails | { where: string } | { helper: string }
  UML_REGISTRY_FAILED: RegistryResponseDetails | { realm: string } | { digest: string; size: number; received?: number }
  UML_NODE_RUNTIME_FAILED: { binary: string; ldd?: string }
  UML_GUEST_BOOT_TIMEOUT: GuestFailureDetails
  UML_GUEST_PANIC: GuestFailureDetails
  UML_GUEST_EXITED: GuestFailureDetails
  UML_GUEST_KILLED: GuestFailureDetails
  UML_GUEST_DISK_FULL: GuestFailureDetails
  UML_GUEST_MAP_LIMIT: GuestFailureDetails & { mappings: number; limit: number }
  UML_GUEST_DISPOSED: NoDetails
  /** memory: how full the guest's memory was, if it said in time. */
  UML_GUEST_HUNG: {
    consoleTail: string
    fileTimeout: number
    memory: { totalMiB: number; availableMiB: number } | undefined
  }
  UML_GUEST_OUT_OF_MEMORY: WorkerExitDetails
  UML_WORKER_EXITED: WorkerExitDetails
  UML_TEST_TIMEOUT: { task: string; phase: 'test' | 'hook'; timeout: number }
  UML_GUEST_PROTOCOL: { consoleTail?: string; violation?: string }
  UML_HOST_ACCESS_DENIED: { what: string; why: string }
  UML_VITEST_UNSUPPORTED: { version: string; vitestDir: string; tested: string[] }
  UML_COMMAND_FAILED: { command: string }
  /** `install`: the apt-get line that adds the missing host tools, when tools are what is missing. */
  UML_NETWORK_UNAVAILABLE: { problem: string; install?: string }
}

export type UmlErrorCode = keyof UmlErrorDetails

export interface UmlErrorOptions<Code extends UmlErrorCode = UmlErrorCode> {
  /** What went wrong underneath, kept for debugging. */
  cause?: unknown
  /** Evidence as data: console tail, kernel command line, exit status, paths... */
  details?: UmlErrorDetails[Code]
  /**
   * Evidence as text, shown after the short message in `message`: a console tail, a tool's
   * output. Kept out of `shortMessage`.
   */
  evidence?: string | undefined
}

/** Options are optional only for codes whose details may be left out. */
type OptionsArgument<Code extends UmlErrorCode> = NoDetails extends UmlErrorDetails[Code]
  ? [options?: UmlErrorOptions<Code>]
  : [options: UmlErrorOptions<Code> & { details: UmlErrorDetails[Code] }]

/**
 * The one error class of vitest-uml. `shortMessage` says what happened, why, and how to fix it;
 * `message` adds the evidence (console tail, tool output); `code` is stable; `details` carries the
 * evidence as data.
 */
export class UmlError<Code extends UmlErrorCode = UmlErrorCode> extends Error {
  override readonly name = 'UmlError'
  readonly code: Code
  readonly shortMessage: string
  readonly details: UmlErrorDetails[Code]

  constructor(code: Code, shortMessage: string, ...[options = {}]: OptionsArgument<Code>) {
    const { cause, details, evidence } = options as UmlErrorOptions<Code>
    super(evidence ? `${shortMessage}\n${evidence}` : shortMessage, cause === undefined ? undefined : { cause })
    this.code = code
    this.shortMessage = shortMessage
    this.details = details ?? ({} as UmlErrorDetails[Code])
  }
}

export function isUmlError<Code extends UmlErrorCode = UmlErrorCode>(
  error: unknown,
  code?: Code,
): error is UmlError<Code> {
  return error instanceof UmlError && (code === undefined || error.code === code)
}
