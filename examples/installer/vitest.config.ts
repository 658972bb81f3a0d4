import { defineConfig } from 'vitest/config'
import { uml } from 'vitest-pool-uml'
import { startReleaseServer } from './release-server.js'

/** The Debian mirror the guests install from: the only host they may reach beyond this one. */
const mirror = new URL(process.env.VITEST_UML_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian')

export default defineConfig(async () => ({
  // Every test file runs in each kernel x image cell, as root, on a throw-away disk. The guests
  // reach the Debian mirror (through the allow-list's proxy) and the release server on this host,
  // at host.vitest-uml.internal:8080, and nothing else.
  plugins: [
    uml({
      matrix: { kernel: ['6.1', '7.2'], image: ['debian-bookworm', 'debian-trixie'] },
      network: { allow: [mirror.host], forward: [{ guest: 8080, host: await startReleaseServer() }] },
    }),
  ],
  // Installing packages and walking the disk as root take a while in a guest, more on 6.1 (ptrace).
  test: { setupFiles: ['./test/guard.ts'], testTimeout: 300_000 },
}))
