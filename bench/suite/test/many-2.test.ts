import { describe, expect, it } from 'vitest'

describe.each(Array.from({ length: 10 }, (_, n) => n))('group %i', (group) => {
  it.each(Array.from({ length: 10 }, (_, n) => n))('small test %i', (n) => {
    expect(group * 10 + n).toBeGreaterThanOrEqual(0)
  })
})
