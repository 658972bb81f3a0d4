import { describe, expect, it } from 'vitest'
import { leastUsedCpu, parseCpuList } from '../../../src/host/guest/guest-cpu.js'

describe('parseCpuList', () => {
  it('reads ranges and single CPUs as the kernel writes them', () => {
    expect(parseCpuList('0-3,6\n')).toEqual([0, 1, 2, 3, 6])
    expect(parseCpuList('5')).toEqual([5])
    expect(parseCpuList('')).toEqual([])
  })
})

describe('leastUsedCpu', () => {
  it('takes the allowed CPU with the fewest guests, counting a CPU without any as zero', () => {
    expect(
      leastUsedCpu(
        [0, 1, 2],
        new Map([
          [0, 2],
          [1, 1],
          [2, 3],
        ]),
      ),
    ).toBe(1)
    expect(leastUsedCpu([0, 1], new Map([[0, 1]]))).toBe(1)
    // Guests on a CPU this process may not use do not matter.
    expect(
      leastUsedCpu(
        [2, 3],
        new Map([
          [0, 0],
          [2, 1],
          [3, 2],
        ]),
      ),
    ).toBe(2)
  })

  it('breaks a tie at random among the tied CPUs only', () => {
    const counts = new Map([
      [0, 1],
      [1, 0],
      [2, 0],
    ])
    expect(leastUsedCpu([0, 1, 2], counts, () => 0)).toBe(1)
    expect(leastUsedCpu([0, 1, 2], counts, () => 0.99)).toBe(2)
  })
})
