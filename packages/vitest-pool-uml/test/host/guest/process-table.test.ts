import { expect, it } from 'vitest'
import { ancestors, readProc, readProcessTable } from '../../../src/host/guest/process-table.js'

it('reads every process with its command name and parent', () => {
  const processes = readProcessTable()
  expect(processes.get(process.pid)).toEqual({ name: readProc('self', 'comm')?.trim(), parent: process.ppid })
  expect(processes.get(1)?.parent).toBe(0)
})

it('lists ancestors nearest first, up to a limit, ending at the root', () => {
  const processes = new Map([
    [40, { name: 'linux', parent: 30 }],
    [30, { name: 'bwrap', parent: 20 }],
    [20, { name: 'taskset', parent: 1 }],
    [1, { name: 'init', parent: 0 }],
  ])
  expect(ancestors(40, processes, 2)).toEqual([30, 20])
  expect(ancestors(40, processes, 10)).toEqual([30, 20, 1])
  expect(ancestors(99, processes, 10)).toEqual([])
})

it('gives undefined for a process that is gone', () => {
  expect(readProc(2 ** 22 + 1, 'stat')).toBeUndefined()
})
