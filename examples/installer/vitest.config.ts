import { defineConfig } from 'vitest/config'
import { uml } from 'vitest-pool-uml'

export default defineConfig({
  // Every test file runs in each kernel x image cell, as root, on a throw-away disk.
  plugins: [uml({ matrix: { kernel: ['6.1', '7.2'], image: ['debian-bookworm', 'debian-trixie'] } })],
  // Installing packages and walking the disk as root take a while in a guest, more on 6.1 (ptrace).
  test: { setupFiles: ['./test/guard.ts'], testTimeout: 120_000 },
})
