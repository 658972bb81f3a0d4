import { expect, it } from 'vitest'
import { countPrimes } from '../workloads'

it('counts primes', () => {
  expect(countPrimes(300_000)).toBeGreaterThan(0)
})

it('sorts numbers', () => {
  const values = Array.from({ length: 50_000 }, (_, n) => (n * 7919) % 10_007)
  expect(values.sort((a, b) => a - b)[0]).toBe(0)
})
