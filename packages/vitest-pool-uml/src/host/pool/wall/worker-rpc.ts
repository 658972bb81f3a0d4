import { resolve } from 'node:path'
import type { TestProject } from 'vitest/node'
import type { UmlError } from '../../core/index.js'
import { addGuestHint } from '../guest-error-hints.js'
import { type RpcRequest, rpcRequest, taskFileId, UNKNOWN_TEST_ID, type WorkerRpcMethod } from '../vitest-internals.js'
import { type ParseStack, sanitizeGuestError } from './guest-errors.js'
import type { HostFiles } from './host-files.js'
import { accessDenied, protocolViolation } from './wall-errors.js'

/** What the rules know of the worker that calls: its project, its files, how to read stacks. */
export interface RpcScope {
  project: TestProject
  files: HostFiles
  parseStack: ParseStack
  /** The host methods a worker of the project's Vitest calls. */
  methods: ReadonlySet<string>
  /** The test files Vitest gave this worker, and their task ids. */
  testFiles: ReadonlySet<string>
  fileIds: ReadonlySet<string>
  /** Task ids of the files whose run has ended (the worker sent their last event). */
  endedFileIds: ReadonlySet<string>
  /** Console output of the file in progress so far, in characters. */
  consoleChars: number
}

/**
 * A call let through (its arguments checked, and made safe where needed), turned down (the test
 * that made it fails), or answered here without Vitest (output past the budget, dropped).
 */
export type RpcVerdict = { forward: RpcRequest } | { refuse: UmlError } | { answer: undefined }

type Rule = (args: unknown[], scope: RpcScope) => unknown[] | UmlError | 'drop'

/** Console output (console.log and the like) a test file may send the host; what comes after is dropped. */
export const MAX_CONSOLE_CHARS_PER_FILE = 64 * 1024 * 1024

/**
 * The rule for each host method a Vitest worker may call, for a worker whose guest is hostile.
 * Anything malformed (a method not listed, arguments of the wrong shape, tasks of files that are
 * not this worker's) is a protocol violation; a well-formed request for something the guest may
 * not have (a host file outside `server.fs.allow`, say) is refused, and the test that asked fails.
 */
const RULES: Record<WorkerRpcMethod, Rule> = {
  fetch: (args, scope) => checkModuleCall(args, scope),
  resolve: (args, scope) => checkModuleCall(args, scope),
  snapshotSaved: ([snapshot], scope) => {
    requireOwnTestFile((snapshot as { filepath?: unknown } | null)?.filepath, scope, 'snapshotSaved')
    return [snapshot]
  },
  resolveSnapshotPath: ([testPath], scope) => {
    requireOwnTestFile(testPath, scope, 'resolveSnapshotPath')
    return [testPath]
  },
  onQueued: ([file], scope) => [checkFileTask(file, scope)],
  onCollected: ([files], scope) => {
    requireArray(files, 'onCollected files')
    return [files.map((file) => checkFileTask(file, scope))]
  },
  onTaskUpdate: ([packs, events], scope) => {
    requireArray(packs, 'onTaskUpdate packs')
    requireArray(events, 'onTaskUpdate events')
    for (const pack of packs) {
      requireArray(pack, 'task update')
      requireOwnTaskId(pack[0], scope, { running: true })
      const result = pack[1] as { errors?: unknown } | undefined
      if (result && Array.isArray(result.errors)) sanitizeErrors(result.errors, scope)
    }
    for (const event of events) {
      requireArray(event, 'task event')
      requireOwnTaskId(event[0], scope, { running: true })
      requireString(event[1], 'task event name')
    }
    return [packs, events]
  },
  onTaskArtifactRecord: ([testId, artifact], scope) => {
    requireOwnTaskId(testId, scope, { running: true })
    const record = artifact as { attachments?: unknown; annotation?: { attachment?: unknown } } | null
    if (typeof record !== 'object' || record === null) throw protocolViolation('an artifact that is not an object')
    const attachments = [
      ...(Array.isArray(record.attachments) ? record.attachments : []),
      record.annotation?.attachment,
    ]
    if (attachments.some(namesHostFile)) {
      return accessDenied(
        'attach a file by its path',
        'the host would copy its own file of that name, not the guest’s',
        'Pass the content instead: annotate(message, { body, contentType }).',
      )
    }
    return [testId, artifact]
  },
  onUserConsoleLog: ([log], scope) => {
    const entry = log as { content?: unknown; type?: unknown; taskId?: unknown } | null
    if (typeof entry !== 'object' || entry === null) throw protocolViolation('a console entry that is not an object')
    requireString(entry.content, 'console content')
    if (entry.type !== 'stdout' && entry.type !== 'stderr') throw protocolViolation('a console entry of no stream')
    if (entry.taskId !== undefined && entry.taskId !== UNKNOWN_TEST_ID) requireOwnTaskId(entry.taskId, scope)
    const before = scope.consoleChars
    scope.consoleChars += entry.content.length
    if (scope.consoleChars <= MAX_CONSOLE_CHARS_PER_FILE) return [entry]
    if (before > MAX_CONSOLE_CHARS_PER_FILE) return 'drop'
    entry.content = `[vitest-uml: this test file logged more than ${MAX_CONSOLE_CHARS_PER_FILE} characters; the rest is dropped]\n`
    return [entry]
  },
  onUnhandledError: ([error, type], scope) => {
    requireOptionalString(type, 'unhandled error type')
    return [addGuestHint(sanitizeGuestError(error, scope.files, scope.parseStack)), type]
  },
  onAsyncLeaks: ([leaks], scope) => {
    requireArray(leaks, 'async leaks')
    for (const leak of leaks) {
      const record = leak as { stack?: unknown; projectName?: unknown } | null
      if (typeof record !== 'object' || record === null) throw protocolViolation('an async leak that is not an object')
      requireString(record.stack, 'async leak stack')
      if (record.projectName !== scope.project.name) throw protocolViolation('an async leak of another project')
      sanitizeGuestError(record, scope.files, scope.parseStack)
    }
    return [leaks]
  },
  onAfterSuiteRun: ([meta], scope) => [checkCoverage(meta, scope)],
  onCancel: ([reason], scope) => {
    // Only bail cancels a run from a worker; anything else would let a guest end everyone's run.
    if (reason !== 'test-failure' || !scope.project.vitest.config.bail) {
      return accessDenied('cancel the run', 'only --bail cancels a run from a worker', 'Use --bail.')
    }
    return [reason]
  },
  getCountOfFailedTests: () => [],
  ensureModuleGraphEntry: ([id, importer], scope) => {
    requireString(id, 'module graph id')
    requireString(importer, 'module graph importer')
    // Vitest prints code frames of files in its module graph: only files a guest may have go in.
    if (!scope.files.allowsUrl(id) || !scope.files.allowsUrl(importer)) return moduleDenied(id, scope)
    return [id, importer]
  },
}

/** Checks a call from a worker against its method's rule. Throws UML_GUEST_PROTOCOL for malformed calls. */
export function checkRpcRequest(request: unknown, scope: RpcScope): RpcVerdict {
  const call = request as Partial<RpcRequest>
  if (typeof call.m !== 'string' || !scope.methods.has(call.m)) {
    throw protocolViolation(`a call of ${typeof call.m === 'string' ? `"${call.m.slice(0, 64)}"` : 'no method'}`)
  }
  if (!Array.isArray(call.a)) throw protocolViolation(`a call of ${call.m} without an argument list`)
  if (call.i !== undefined && typeof call.i !== 'string') throw protocolViolation('a call id that is not a string')
  const method = call.m as WorkerRpcMethod
  const checked = RULES[method](call.a, scope)
  if (checked === 'drop') return { answer: undefined }
  if (!Array.isArray(checked)) return { refuse: checked }
  return { forward: rpcRequest(method, checked, call.i) }
}

/** `fetch(url, importer, environment, ...)` and `resolve(id, importer, environment)`. */
function checkModuleCall(args: unknown[], scope: RpcScope): unknown[] | UmlError {
  const [url, importer, environment] = args
  requireString(url, 'a module id')
  requireOptionalString(importer, 'a module importer')
  requireEnvironment(environment, scope)
  return scope.files.allowsUrl(url, importer) ? args : moduleDenied(url, scope)
}

function moduleDenied(url: string, scope: RpcScope): UmlError {
  return accessDenied(
    `load ${url}`,
    `it is not inside the directories Vite lets tests load from (server.fs.allow: ${scope.files.allowedDirs.join(', ')}), or server.fs.deny covers it`,
    'Add its directory to server.fs.allow in the Vite config if tests need it.',
  )
}

function checkFileTask(file: unknown, scope: RpcScope): unknown {
  const task = file as { id?: unknown; filepath?: unknown; projectName?: unknown } | null
  if (typeof task !== 'object' || task === null) throw protocolViolation('a test file task that is not an object')
  requireOwnTestFile(task.filepath, scope, 'a test file task')
  if (task.projectName !== scope.project.name) throw protocolViolation('a test file task of another project')
  visitTasks(task, (child) => {
    requireOwnTaskId(child.id, scope)
    const errors = (child.result as { errors?: unknown } | undefined)?.errors
    if (Array.isArray(errors)) sanitizeErrors(errors, scope)
  })
  return file
}

/** Visits a task and its subtasks (a guest could send a cyclic or very deep tree: both are cut short). */
function visitTasks(root: object, visit: (task: { id?: unknown; result?: unknown }) => void): void {
  const seen = new Set<object>()
  const stack: object[] = [root]
  while (stack.length > 0) {
    const task = stack.pop() as { id?: unknown; result?: unknown; tasks?: unknown }
    if (seen.has(task)) continue
    seen.add(task)
    visit(task)
    if (Array.isArray(task.tasks)) {
      for (const child of task.tasks) {
        if (typeof child !== 'object' || child === null) throw protocolViolation('a subtask that is not an object')
        stack.push(child)
      }
    }
  }
}

function sanitizeErrors(errors: unknown[], scope: RpcScope): void {
  for (let index = 0; index < errors.length; index++) {
    errors[index] = addGuestHint(sanitizeGuestError(errors[index], scope.files, scope.parseStack))
  }
}

/**
 * Coverage only of the project's own files: the host reads every file a coverage result names
 * into its reports, and Vitest's own check (`startsWith(root)`) lets a sibling directory whose
 * name begins with the root's through.
 */
function checkCoverage(meta: unknown, scope: RpcScope): unknown {
  const record = meta as { coverage?: unknown; environment?: unknown; projectName?: unknown; testFiles?: unknown }
  if (typeof record !== 'object' || record === null) throw protocolViolation('coverage that is not an object')
  requireEnvironment(record.environment, scope)
  if (record.projectName !== undefined && record.projectName !== scope.project.name) {
    throw protocolViolation('coverage of another project')
  }
  requireArray(record.testFiles, 'coverage test files')
  // Named relative to the project root.
  for (const file of record.testFiles) {
    requireString(file, 'a coverage test file')
    requireOwnTestFile(resolve(scope.project.config.root, file), scope, 'coverage')
  }
  const coverage = record.coverage as { result?: unknown } | null | undefined
  if (coverage == null) return record
  if (typeof coverage !== 'object') throw protocolViolation('coverage that is not an object')
  if (Array.isArray(coverage.result)) coverage.result = projectScriptsOnly(coverage.result, scope.files)
  else {
    // Istanbul: a coverage map by file path.
    for (const [key, value] of Object.entries(coverage)) {
      const path = (value as { path?: unknown } | null)?.path
      if (!isProjectFile(key, scope.files) || (path !== undefined && path !== key)) {
        delete (coverage as Record<string, unknown>)[key]
      }
    }
  }
  return record
}

/** The V8 coverage scripts (by file URL) of the project's own files, the others left out. */
export function projectScriptsOnly(scripts: unknown[], files: HostFiles): unknown[] {
  return scripts.filter((script) => {
    const url = (script as { url?: unknown } | null)?.url
    return typeof url === 'string' && url.startsWith('file://') && isProjectFile(files.namedFile(url), files)
  })
}

function isProjectFile(path: unknown, files: HostFiles): boolean {
  return typeof path === 'string' && files.isInRoot(path) && files.allows(path)
}

/** An attachment that names a file for the host to copy (a URL it does not fetch is fine). */
function namesHostFile(attachment: unknown): boolean {
  const path = (attachment as { path?: unknown } | null | undefined)?.path
  return typeof path === 'string' && !/^https?:\/\//.test(path)
}

function requireOwnTestFile(path: unknown, scope: RpcScope, what: string): void {
  if (typeof path !== 'string' || !scope.testFiles.has(path)) {
    throw protocolViolation(`${what} of a file that is not this worker's`)
  }
}

/**
 * A task of one of this worker's files; `running`, of one whose run has not ended (with isolate:
 * false a worker runs several files, and a later one must not rewrite an earlier one's results).
 */
function requireOwnTaskId(id: unknown, scope: RpcScope, options: { running?: boolean } = {}): void {
  if (typeof id !== 'string') throw protocolViolation('a task id that is not a string')
  const fileId = taskFileId(id)
  if (!scope.fileIds.has(fileId)) throw protocolViolation("a task that is not of this worker's files")
  if (options.running && scope.endedFileIds.has(fileId)) {
    throw protocolViolation('an update of a file whose run has ended')
  }
}

function requireEnvironment(name: unknown, scope: RpcScope): void {
  if (typeof name !== 'string' || !Object.hasOwn(scope.project.vite.environments, name)) {
    throw protocolViolation('a Vite environment that does not exist')
  }
}

function requireString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') throw protocolViolation(`${what} that is not a string`)
}

function requireOptionalString(value: unknown, what: string): asserts value is string | undefined | null {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw protocolViolation(`${what} that is not a string`)
  }
}

function requireArray(value: unknown, what: string): asserts value is unknown[] {
  if (!Array.isArray(value)) throw protocolViolation(`${what} that is not a list`)
}
