import { expect, it, vi } from 'vitest'
import { countPrimes, roundTripFiles, spawnShells } from '../workloads'

it('mixes work', () => {
  const spy = vi.fn(countPrimes)
  expect(spy(20_000)).toBe(2262)
  expect(roundTripFiles(10)).toBeGreaterThan(0)
  expect(spawnShells(2)).toHaveLength(2)
})
