import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'
import { BuiltKernelsLastSequencer } from './test/setup/built-kernels-last.js'

/**
 * The package's entries mapped to its sources, so the unit tests run the code as it is now, without
 * a build; the end-to-end tests use the built package, as users do. The worker's entries
 * (vitest-pool-uml/disk) are not sources of the host side.
 */
const packageSources = [
  {
    find: /^vitest-pool-uml$/,
    replacement: fileURLToPath(new URL('./packages/vitest-pool-uml/src/index.ts', import.meta.url)),
  },
  {
    find: /^vitest-pool-uml\/api$/,
    replacement: fileURLToPath(new URL('./packages/vitest-pool-uml/src/api.ts', import.meta.url)),
  },
]

export default defineConfig({
  test: {
    sequence: { sequencer: BuiltKernelsLastSequencer },
    projects: [
      {
        // Pure code and host-side logic against stand-ins: seconds, offline, without root or a build.
        resolve: { alias: packageSources },
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          // Nothing here needs a process or a module graph of its own: threads start faster than
          // forks, and one module graph for all files takes a third of the CPU time of one per file.
          pool: 'threads',
          isolate: false,
        },
      },
      {
        // Real guests, real kernels and images, real registries: boots, downloads and root.
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          // Fixture projects that the tests write and run through Vitest themselves.
          exclude: [...configDefaults.exclude, 'test/**/.fixtures/**'],
          globalSetup: ['test/setup/global-setup.ts'],
          // One file at a time: tests assert that no guest outlives them, which needs a quiet host.
          fileParallelism: false,
          // Real guests: a boot on the slowest kernel (6.1, ptrace) takes several seconds.
          testTimeout: 180_000,
          // The global setup fetches four kernels and builds four images on a fresh machine.
          hookTimeout: 900_000,
        },
      },
    ],
  },
})
