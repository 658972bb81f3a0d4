import { expect, it } from 'vitest'
import { guestWorkerEnv } from '../src/guest-worker-env.js'

it('passes Vitest variables, drops host-only ones, and puts the guest PATH first', () => {
  const env = guestWorkerEnv(
    { VITEST: 'true', PATH: '/host/bin', HOME: '/home/me', TMPDIR: '/host/tmp', MY_FLAG: '1', UNSET: undefined },
    { EXTRA: 'x' },
  )
  expect(env).toEqual({
    VITEST: 'true',
    MY_FLAG: '1',
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/vitest-uml/node/bin',
    EXTRA: 'x',
  })
})
