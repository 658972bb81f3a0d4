import { defineConfig } from 'vitest/config'
import { uml } from 'vitest-pool-uml'

// The import-heavy workload: every file imports a generated library of a few hundred TypeScript
// modules (bench/src/generate-library.ts writes lib/ before the runs). The pool comes from the
// command line, as for bench/suite.
// The bench's fresh-kernel mode sets BENCH_FRESH_KERNEL.
export default defineConfig({ plugins: [uml({ freshKernel: process.env.BENCH_FRESH_KERNEL === '1' })] })
