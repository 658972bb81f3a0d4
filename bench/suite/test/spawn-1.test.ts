import { expect, it } from 'vitest'
import { spawnShells } from '../workloads'

it('spawns shell commands', () => {
  expect(spawnShells(1 + 4)).toContain('shell-0')
})
