import { expect, it } from 'vitest'
import { guestWorkerEnv } from '../../../src/host/pool/wall/worker-env.js'

it('passes what was declared for the workers and nothing else of the host environment', () => {
  const env = guestWorkerEnv(
    {
      VITEST: 'true',
      VITEST_POOL_ID: '1',
      NODE_ENV: 'test',
      CI: 'true',
      LC_ALL: 'C.UTF-8',
      PATH: '/host/bin',
      HOME: '/home/me',
      GITHUB_TOKEN: 'ghp_secret',
      AWS_SECRET_ACCESS_KEY: 'secret',
      NPM_TOKEN: 'secret',
      MY_FLAG: '1',
      VITE_API: 'https://example.org',
      UNSET: undefined,
    },
    { testEnv: { MY_FLAG: '1' }, viteEnv: { VITE_API: 'https://example.org', MODE: 'test' } },
    { EXTRA: 'x' },
  )
  expect(env).toEqual({
    VITEST: 'true',
    VITEST_POOL_ID: '1',
    NODE_ENV: 'test',
    CI: 'true',
    LC_ALL: 'C.UTF-8',
    MY_FLAG: '1',
    VITE_API: 'https://example.org',
    EXTRA: 'x',
  })
})
