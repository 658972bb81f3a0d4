import { describe, expect, it } from 'vitest'
import { bootGuest } from '../helpers/boot-guest.js'

const IMAGES = [
  { image: 'debian-bullseye', suite: 'bullseye' },
  { image: 'debian-bookworm', suite: 'bookworm' },
  { image: 'debian-trixie', suite: 'trixie' },
  { image: 'debian-sid', suite: 'sid' },
]

describe.each(IMAGES)('image $image', ({ image, suite }) => {
  it('boots on kernel 7.2 and reports its own release', async () => {
    const guest = await bootGuest({ kernel: '7.2', image })
    try {
      const { stdout, exitCode } = await guest.exec(['cat', '/etc/os-release', '/etc/debian_version'])
      expect(exitCode).toBe(0)
      // sid calls itself "<next>/sid"; the stable suites name themselves in VERSION_CODENAME.
      expect(stdout).toContain(suite)
      for (const other of IMAGES.filter((entry) => entry.suite !== suite && entry.suite !== 'sid')) {
        expect(stdout).not.toContain(`VERSION_CODENAME=${other.suite}`)
      }
      expect(`${guest.osRelease.VERSION_CODENAME} ${guest.osRelease.PRETTY_NAME}`).toContain(suite)
      expect(guest.kernelRelease).toMatch(/^7\.2\./)
    } finally {
      await guest.dispose()
    }
  })
})
