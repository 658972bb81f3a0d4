import { describe, expect, it } from 'vitest'
import { isUmlError } from '../../../src/host/core/index.js'
import {
  checkVitestVersion,
  isRpcRequest,
  rpcRequest,
  TESTED_VITEST_VERSIONS,
  taskFileId,
  taskPhaseChanges,
} from '../../../src/host/pool/vitest-internals.js'

const refusal = (version: string): unknown => {
  try {
    checkVitestVersion(version, '/p/node_modules/vitest')
  } catch (error) {
    return error
  }
  throw new Error(`Vitest ${version} was accepted`)
}

describe('checkVitestVersion', () => {
  it.each([
    ['4.0.0', '4.0'],
    ['4.0.18', '4.0'],
    ['4.1.0', '4.1'],
    ['4.1.12', '4.1'],
  ])('accepts Vitest %s as %s', (version, minor) => {
    expect(checkVitestVersion(version, '/p/node_modules/vitest')).toBe(minor)
  })

  it('accepts every version the end-to-end suite runs against', () => {
    for (const version of TESTED_VITEST_VERSIONS) expect(() => checkVitestVersion(version, '/v')).not.toThrow()
  })

  it.each(['3.2.4', '4.2.0', '4.2.0-beta.1', '5.0.0', '40.1.0', 'nonsense'])(
    'refuses Vitest %s with what to install',
    (version) => {
      const error = refusal(version)
      expect(isUmlError(error, 'UML_VITEST_UNSUPPORTED')).toBe(true)
      expect((error as Error).message).toBe(
        `vitest-pool-uml supports Vitest 4.0.x and 4.1.x, but this project loads Vitest ${version} (/p/node_modules/vitest). ` +
          `Install a supported Vitest (tested: 4.0.18, 4.1.12), or a vitest-pool-uml release made for Vitest ${/^\d+\.\d+/.exec(version)?.[0] ?? version}.`,
      )
      expect((error as { details: unknown }).details).toEqual({
        version,
        vitestDir: '/p/node_modules/vitest',
        tested: ['4.0.18', '4.1.12'],
      })
    },
  )
})

describe('birpc envelopes', () => {
  it('builds a call with its id and an event without one', () => {
    expect(rpcRequest('fetch', ['/a.ts'], 'c1')).toEqual({ t: 'q', m: 'fetch', a: ['/a.ts'], i: 'c1' })
    expect(rpcRequest('onCancel', ['test-failure'])).toStrictEqual({ t: 'q', m: 'onCancel', a: ['test-failure'] })
  })

  it('tells a call, and a call of one method, from anything else', () => {
    const call = rpcRequest('onTaskUpdate', [[], []])
    expect(isRpcRequest(call)).toBe(true)
    expect(isRpcRequest(call, 'onTaskUpdate')).toBe(true)
    expect(isRpcRequest(call, 'fetch')).toBe(false)
    expect(isRpcRequest({ t: 's', i: 'c1' })).toBe(false)
    expect(isRpcRequest(null)).toBe(false)
  })
})

describe('taskFileId', () => {
  it.each([
    ['1234567', '1234567'],
    ['1234567_0', '1234567'],
    ['-98765_2_1_0', '-98765'],
  ])('%s belongs to file %s', (taskId, fileId) => {
    expect(taskFileId(taskId)).toBe(fileId)
  })
})

describe('taskPhaseChanges', () => {
  const update = (...events: unknown[]) => rpcRequest('onTaskUpdate', [[], events])

  it('reads what each task event begins, in order', () => {
    expect(
      taskPhaseChanges(
        update(
          ['f_0', 'test-prepare', undefined],
          ['f_0', 'before-hook-start', undefined],
          ['f_0', 'before-hook-end', undefined],
          ['f_0', 'test-finished', undefined],
        ),
      ),
    ).toEqual([
      { taskId: 'f_0', phase: 'test' },
      { taskId: 'f_0', phase: 'hook' },
      { taskId: 'f_0', phase: 'test' },
      { taskId: 'f_0', phase: 'none' },
    ])
  })

  it('passes over events that begin nothing, names from Object.prototype and malformed events', () => {
    expect(
      taskPhaseChanges(
        update(
          ['f', 'suite-prepare'],
          ['f_0', 'test-annotation'],
          ['f_0', 'toString'],
          ['f_0', '__proto__'],
          [1, 'test-prepare'],
          'x',
        ),
      ),
    ).toEqual([])
  })

  it('finds none in other messages', () => {
    expect(taskPhaseChanges(rpcRequest('onCollected', [[], [['f_0', 'test-prepare']]]))).toEqual([])
    expect(taskPhaseChanges({ t: 'q', m: 'onTaskUpdate', a: 'not a list' })).toEqual([])
    expect(taskPhaseChanges({ t: 'q', m: 'onTaskUpdate', a: [[], {}] })).toEqual([])
    expect(taskPhaseChanges(undefined)).toEqual([])
  })
})
