import { expect, it } from 'vitest'
import type { TestModule } from 'vitest/node'
import { cellResults } from '../../../src/host/pool/matrix-results.js'

const test = (state: string, startTime?: number, duration = 0) => ({
  result: () => ({ state }),
  diagnostic: () => (startTime === undefined ? undefined : { startTime, duration }),
})

const module = (project: string, tests: ReturnType<typeof test>[], state = 'passed', collectDuration = 0) =>
  ({
    project: { name: project },
    state: () => state,
    children: { allTests: () => tests },
    diagnostic: () => ({ collectDuration, setupDuration: 5, prepareDuration: 10, environmentSetupDuration: 0 }),
  }) as unknown as TestModule

const cells = [
  { name: 'debian-trixie@6.1', kernel: '6.1', image: 'debian-trixie', imageLabel: 'debian-trixie' },
  { name: 'debian-trixie@7.2', kernel: '7.2', image: 'debian-trixie', imageLabel: 'debian-trixie' },
  { name: 'debian-sid@7.2', kernel: '7.2', image: 'debian-sid', imageLabel: 'debian-sid' },
]

it('counts each cell’s tests and spans its files’ time, imports included', () => {
  const results = cellResults(cells, [
    module('debian-trixie@6.1', [test('passed', 1000, 50), test('skipped'), test('failed', 1050, 20)], 'failed', 85),
    module('debian-trixie@6.1', [test('passed', 1500, 300)]),
    // Failed while importing: no tests ran, yet the file counts as a failure.
    module('debian-trixie@7.2', [], 'failed'),
    module('other', [test('passed', 0, 1)]),
  ])
  expect(results).toEqual([
    { cell: cells[0], files: 2, passed: 2, failed: 1, skipped: 1, wallTime: 1800 - 900 },
    { cell: cells[1], files: 1, passed: 0, failed: 1, skipped: 0, wallTime: undefined },
    { cell: cells[2], files: 0, passed: 0, failed: 0, skipped: 0, wallTime: undefined },
  ])
})
