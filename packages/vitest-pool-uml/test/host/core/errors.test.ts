import { describe, expect, expectTypeOf, it } from 'vitest'
import { isUmlError, UmlError } from '../../../src/host/core/errors.js'

describe('UmlError', () => {
  it('keeps the short message apart from the evidence, which the full message adds', () => {
    const error = new UmlError(
      'UML_WORKER_EXITED',
      'The test worker in the guest exited unexpectedly (signal SIGKILL).',
      {
        details: { consoleTail: 'oom-kill', code: null, signal: 'SIGKILL' },
        evidence: 'Console (last lines):\noom-kill',
      },
    )
    expect(error.shortMessage).toBe('The test worker in the guest exited unexpectedly (signal SIGKILL).')
    expect(error.message).toBe(`${error.shortMessage}\nConsole (last lines):\noom-kill`)
    expect(error.name).toBe('UmlError')
    expect(error.code).toBe('UML_WORKER_EXITED')
  })

  it('has a message equal to the short message without evidence, empty details and its cause', () => {
    const cause = new Error('underneath')
    const error = new UmlError('UML_GUEST_DISPOSED', 'The guest was disposed; boot a new one.', { cause })
    expect(error.message).toBe(error.shortMessage)
    expect(error.details).toEqual({})
    expect(error.cause).toBe(cause)
  })

  it('types details by code, and isUmlError narrows to that code', () => {
    const error: unknown = new UmlError('UML_HOST_TOOL_MISSING', 'bwrap is missing', {
      details: { tool: 'bwrap', package: 'bubblewrap' },
    })
    expect(isUmlError(error)).toBe(true)
    expect(isUmlError(error, 'UML_GUEST_PANIC')).toBe(false)
    expect(isUmlError(new Error('plain'))).toBe(false)
    if (!isUmlError(error, 'UML_HOST_TOOL_MISSING')) throw error
    expectTypeOf(error.details).toEqualTypeOf<{ tool: string; package: string }>()
    expect(error.details.package).toBe('bubblewrap')
    // @ts-expect-error: this code's details are required
    new UmlError('UML_HOST_TOOL_MISSING', 'no details')
    // @ts-expect-error: details of another code
    new UmlError('UML_HOST_TOOL_MISSING', 'wrong details', { details: { name: 'x', known: [] } })
  })
})
