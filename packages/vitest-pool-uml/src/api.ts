// The host-side building blocks, for code that drives guests itself: the CLI's commands, this
// repository's end-to-end tests and benchmarks. Vitest users need only the package's main entry.
export * from './host/core/index.js'
export * from './host/guest/index.js'
export * from './host/images/index.js'
export * from './host/kernels/index.js'
// What the pool records per test file when asked for timings, as `pnpm bench` reads it.
export type { FileStatsRecord } from './host/pool/timings.js'
