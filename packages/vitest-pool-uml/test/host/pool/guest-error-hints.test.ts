import { expect, it } from 'vitest'
import { addGuestHint, READ_ONLY_HINT } from '../../../src/host/pool/guest-error-hints.js'

it('names the option in an EROFS error, once, and leaves other errors as they were', () => {
  const message = "EROFS: read-only file system, open '/data/x'"
  const erofs = { code: 'EROFS', message, stack: `Error: ${message}\n    at writeFileSync (node:fs:2380:20)` }
  expect(addGuestHint(addGuestHint(erofs))).toEqual({
    code: 'EROFS',
    message: `${message}\n${READ_ONLY_HINT}`,
    stack: `Error: ${message}\n${READ_ONLY_HINT}\n    at writeFileSync (node:fs:2380:20)`,
  })
  const other = { code: 'EACCES', message: 'EACCES: permission denied' }
  expect(addGuestHint({ ...other })).toEqual(other)
  expect(addGuestHint('EROFS')).toBe('EROFS')
  expect(addGuestHint({ code: 'EROFS', message: 42 })).toEqual({ code: 'EROFS', message: 42 })
})
