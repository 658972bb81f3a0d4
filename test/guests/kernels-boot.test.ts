import { describe, expect, it } from 'vitest'
import { getCacheDir, KERNEL_NAMES, resolveKernel } from 'vitest-pool-uml/api'
import { bootGuest } from '../helpers/boot-guest.js'

describe.each(KERNEL_NAMES)('kernel %s', (name) => {
  it('boots the bookworm image, and uname -r in the guest is that kernel', async () => {
    const kernel = await resolveKernel(name, { cacheDir: getCacheDir() })
    const guest = await bootGuest({ kernel: name, image: 'debian-bookworm' })
    try {
      const result = await guest.exec(['uname', '-r'])
      expect(result.exitCode).toBe(0)
      expect(result.stdout.trim()).toBe(kernel.release)
      expect(kernel.release.startsWith(`${name}.`)).toBe(true)
      expect(guest.osRelease.VERSION_CODENAME).toBe('bookworm')
    } finally {
      await guest.dispose()
    }
  })
})
