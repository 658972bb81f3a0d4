export { findLiveBuilders, removeAbandonedEntries, temporaryEntryName } from './abandoned-entries.js'
export { exists, writeDirAtomically } from './atomic-dir.js'
export { niceAutogroup } from './autogroup.js'
export { getCacheDir } from './cache-dir.js'
export { reapedChildrenCpuMs, statFields, USER_HZ } from './cpu-time.js'
export { DEFAULT_DEBIAN_MIRROR, debianMirror } from './debian-mirror.js'
export { diesWithParent } from './dies-with-parent.js'
export {
  type GuestFailureDetails,
  type ImageFailureDetails,
  isUmlError,
  type OptionIssue,
  type RegistryResponseDetails,
  UmlError,
  type UmlErrorCode,
  type UmlErrorDetails,
  type UmlErrorOptions,
  type WorkerExitDetails,
} from './errors.js'
export { fileSha256 } from './file-sha256.js'
export { hostMemoryMiB } from './host-memory.js'
export {
  findHostTool,
  findMissingKernelBuildTools,
  HOST_TOOLS,
  type HostTool,
  KERNEL_BUILD_TOOLS,
  type MissingTool,
  missingPackages,
  OPTIONAL_HOST_TOOLS,
  requireHostTool,
} from './host-tools.js'
export { describeIssues, type InvalidOptionsMessage, invalidOptionsError, parseOptions } from './invalid-options.js'
export { cacheDirSchema, progressSchema } from './option-schemas.js'
export { createStreamProgress, formatBytes, type Progress, type ProgressUnit, silentProgress } from './progress.js'
export { removeTree } from './remove-tree.js'
export {
  buildSandboxArgs,
  type SandboxHidden,
  type SandboxMount,
  type SandboxOptions,
  type SandboxScratch,
} from './sandbox-args.js'
export * from './sandbox-layout.js'
export { isWallOff, WALL_OFF_VARIABLE } from './wall-switch.js'
export { checkWorkDir, requireWorkDir, type WorkDirProblem } from './work-dir.js'
