import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          // Fixture projects that the tests write and run through Vitest themselves.
          exclude: [...configDefaults.exclude, 'test/.fixtures/**'],
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
