import { isUmlError } from '../../../src/host/core/index.js'

/** The message of the usage error (UML_INVALID_OPTIONS) that `run` throws; any other outcome fails the test. */
export function usageError(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (isUmlError(error, 'UML_INVALID_OPTIONS')) return error.message
    throw error
  }
  throw new Error('expected UML_INVALID_OPTIONS')
}
