import { expect, it } from 'vitest'

it('matches a snapshot', () => {
  expect({ file: 3, squares: Array.from({ length: 8 }, (_, n) => n * n) }).toMatchSnapshot()
})
