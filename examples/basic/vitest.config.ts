import { defineConfig } from 'vitest/config'
import { uml } from 'vitest-pool-uml'

export default defineConfig({
  plugins: [uml({ kernel: '7.2', image: 'debian-trixie' })],
  test: {
    // Also the default here, so a plain `vitest` runs in guests too.
    pool: 'uml',
    setupFiles: ['./test/guard.ts'],
  },
})
