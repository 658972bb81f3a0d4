import { expect, it } from 'vitest'
import { roundTripFiles } from '../workloads'

it('writes and reads files under /tmp', () => {
  const files = 20 + 40
  expect(roundTripFiles(files)).toBe((files * (files - 1)) / 2)
})
