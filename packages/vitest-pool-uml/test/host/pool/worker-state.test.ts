import { expect, it } from 'vitest'
import { canTransition, type WorkerState } from '../../../src/host/pool/worker-state.js'

it('allows the transitions of a worker’s life and no others', () => {
  const life: WorkerState[] = [
    'idle',
    'leasing',
    'attached',
    'starting',
    'ready',
    'running',
    'ready',
    'stopping',
    'stopped',
  ]
  for (let index = 1; index < life.length; index++) {
    expect(canTransition(life[index - 1] as WorkerState, life[index] as WorkerState)).toBe(true)
  }
  expect(canTransition('running', 'relaunching')).toBe(true)
  expect(canTransition('lost', 'relaunching')).toBe(true)
  expect(canTransition('relaunching', 'running')).toBe(true)
  expect(canTransition('ready', 'handing-on')).toBe(true)
  expect(canTransition('handing-on', 'stopped')).toBe(true)
  expect(canTransition('running', 'handing-on')).toBe(false)
  expect(canTransition('lost', 'handing-on')).toBe(false)
  expect(canTransition('handing-on', 'ready')).toBe(false)
  expect(canTransition('stopped', 'stopping')).toBe(false)
  expect(canTransition('idle', 'running')).toBe(false)
  expect(canTransition('lost', 'ready')).toBe(false)
})
