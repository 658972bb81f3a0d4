import { defineConfig } from 'vitest/config'
import { uml } from 'vitest-pool-uml'

// The pool comes from the command line: the benchmark runs this suite with --pool=forks on the
// host and --pool=uml in guests. Nothing here needs root, so it is safe on the host too.
// The bench's fresh-kernel mode sets BENCH_FRESH_KERNEL.
export default defineConfig({ plugins: [uml({ freshKernel: process.env.BENCH_FRESH_KERNEL === '1' })] })
