import type { StackFrame } from '../vitest-internals.js'
import type { HostFiles } from './host-files.js'

/** Nested causes followed; deeper ones are cut, as a guest can nest without end. */
const MAX_DEPTH = 8

/**
 * Stands in for a host path the guest may not have in a stack frame: relative, so Vitest resolves
 * it under the project root, where it names no host file of its own.
 */
export const HIDDEN_FILE_PREFIX = 'guest:'

export type ParseStack = (stack: string) => StackFrame[]

/**
 * An error from a guest, made safe for the host to print. Vitest prints a code frame of the file
 * a stack frame names, read from the host's disk: frames naming host files the guest may not have
 * are rewritten so they name none; a parsed `stacks` array (which Vitest would trust over the
 * stack text) is dropped, as are `fileName`/`sourceURL` fallbacks naming such files. Causes and
 * aggregated errors are treated alike. The error is changed in place and returned.
 */
export function sanitizeGuestError<T>(error: T, files: HostFiles, parseStack: ParseStack, depth = 0): T {
  if (typeof error !== 'object' || error === null) return error
  if (depth >= MAX_DEPTH) return { message: '[vitest-uml] error nested too deeply' } as T
  const record = error as Record<string, unknown>
  delete record.stacks
  if (typeof record.stack === 'string') record.stack = sanitizeStack(record.stack, files, parseStack)
  for (const key of ['fileName', 'sourceURL']) {
    if (typeof record[key] === 'string' && namesHiddenFile(record[key], files)) delete record[key]
  }
  if ('cause' in record) record.cause = sanitizeGuestError(record.cause, files, parseStack, depth + 1)
  if (Array.isArray(record.errors)) {
    record.errors = record.errors.map((inner) => sanitizeGuestError(inner, files, parseStack, depth + 1))
  }
  return error
}

/**
 * A stack whose frames name only files the guest may have is kept as it is; otherwise it is
 * rebuilt from the frames Vitest itself reads out of it, hidden files renamed, and nothing else of
 * the text but a first line that holds no frame.
 */
export function sanitizeStack(stack: string, files: HostFiles, parseStack: ParseStack): string {
  const frames = parseStack(stack)
  if (!frames.some((frame) => namesHiddenFile(frame.file, files))) return stack
  // The first line names the error (Vitest prints name and message from their own fields).
  const firstLine = stack.split('\n', 1)[0] ?? ''
  const header = parseStack(firstLine).length === 0 ? firstLine : 'Error'
  const lines = frames.map((frame) => {
    const file = namesHiddenFile(frame.file, files) ? `${HIDDEN_FILE_PREFIX}${frame.file}` : frame.file
    const location = `${file}:${frame.line}:${frame.column}`
    return frame.method ? `    at ${frame.method} (${location})` : `    at ${location}`
  })
  return [header, ...lines].join('\n')
}

function namesHiddenFile(file: string, files: HostFiles): boolean {
  const path = file.startsWith('file://') ? files.namedFile(file) : file
  return path?.startsWith('/') === true && !files.allows(path)
}
