import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { RunnerTask, RunnerTaskEventPack, RunnerTestFile } from 'vitest'
import type { JUnitReporter, TestProject } from 'vitest/node'
import { UmlError } from '../core/index.js'
import { guestModulesDir } from './guest-modules.js'
import { POOL_NAME } from './pool-identity.js'

/**
 * Everything vitest-pool-uml relies on that Vitest does not document as public API, in one place,
 * so that a Vitest upgrade is this file's work. Read from the published dist code of Vitest 4.0.18
 * and 4.1.12 (`chunks/cli-api.*.js`: `createMethodsRPC`, `PoolRunner`, `StateManager`;
 * `workers/forks.js` and `chunks/init.*.js`; `@vitest/runner`: `utils`, task ids and task events;
 * `@vitest/utils/source-map`; `@vitest/snapshot`'s manager; birpc as bundled in
 * `chunks/index.*.js`). The two minors differ only where `MINORS` says; the worker protocol,
 * birpc, the forks entry, file tasks and the stack parser are the same.
 */

/** The Vitest releases this file was read from and the end-to-end suite runs against. */
export const TESTED_VITEST_VERSIONS = ['4.0.18', '4.1.12'] as const

/** Host methods a Vitest 4.0 worker calls (`createMethodsRPC`); `transform` serves only the vm pools and is left out. */
const WORKER_RPC_METHODS_4_0 = [
  'fetch',
  'resolve',
  'snapshotSaved',
  'resolveSnapshotPath',
  'onQueued',
  'onCollected',
  'onAfterSuiteRun',
  'onTaskArtifactRecord',
  'onTaskUpdate',
  'onUserConsoleLog',
  'onUnhandledError',
  'onCancel',
  'getCountOfFailedTests',
] as const

/** And those of 4.1, which added `onAsyncLeaks` and `ensureModuleGraphEntry`: every method the wall has a rule for. */
export const WORKER_RPC_METHODS = [...WORKER_RPC_METHODS_4_0, 'onAsyncLeaks', 'ensureModuleGraphEntry'] as const
export type WorkerRpcMethod = (typeof WORKER_RPC_METHODS)[number]

/** What differs between the minor releases this pool supports (Vitest 4's pool API appeared in 4.0). */
const MINORS = {
  '4.0': {
    rpcMethods: WORKER_RPC_METHODS_4_0,
    /** The guest module whose snapshot environment extends 4.0's, from `vitest/snapshot` (4.0 has no `vitest/runtime`). */
    snapshotEnvironment: 'snapshot-environment-vitest-4.0.js',
    /** The entry with the reporter classes: only `vitest/reporters` in 4.0. */
    reporters: () => import('vitest/reporters'),
  },
  '4.1': {
    rpcMethods: WORKER_RPC_METHODS,
    /** From `vitest/runtime`: 4.1 warns on every import of `vitest/snapshot`. */
    snapshotEnvironment: 'snapshot-environment.js',
    /** `vitest/node`: 4.1 warns on every import of `vitest/reporters`. */
    reporters: () => import('vitest/node'),
  },
} as const
export type VitestMinor = keyof typeof MINORS

/** The project's own copy of Vitest, whose worker runs in the guests. */
export interface ProjectVitest {
  dir: string
  version: string
  minor: VitestMinor
}

/** The minor release of a supported Vitest version; an unsupported one stops the run with what to install. */
export function checkVitestVersion(version: string, vitestDir: string): VitestMinor {
  const minor = /^(\d+\.\d+)\./.exec(version)?.[1]
  if (minor !== undefined && Object.hasOwn(MINORS, minor)) return minor as VitestMinor
  const supported = Object.keys(MINORS).map((m) => `${m}.x`)
  throw new UmlError(
    'UML_VITEST_UNSUPPORTED',
    `vitest-pool-uml supports Vitest ${supported.join(' and ')}, but this project loads Vitest ${version} (${vitestDir}). Install a supported Vitest (tested: ${TESTED_VITEST_VERSIONS.join(', ')}), or a vitest-pool-uml release made for Vitest ${minor ?? version}.`,
    { details: { version, vitestDir, tested: [...TESTED_VITEST_VERSIONS] } },
  )
}

/** The project's own copy of Vitest (a second copy breaks `describe`), checked to be one this pool supports. */
export function projectVitest(root: string): ProjectVitest {
  const packageJson = createRequire(`${root}/`).resolve('vitest/package.json')
  const { version } = createRequire(import.meta.url)(packageJson) as { version: string }
  const dir = dirname(packageJson)
  return { dir, version, minor: checkVitestVersion(version, dir) }
}

/** Vitest's own worker entry for the forks pool: it runs unchanged in the guest, over an IPC channel. */
export function forksWorkerEntry(vitestDir: string): string {
  return join(vitestDir, 'dist', 'workers', 'forks.js')
}

/**
 * Vitest's JUnit reporter class, from the entry of this minor that has it. `vitest` resolves here
 * as the pool's peer dependency: the project's own copy.
 */
export async function loadJUnitReporter(minor: VitestMinor): Promise<typeof JUnitReporter> {
  return (await MINORS[minor].reporters()).JUnitReporter
}

// --- The worker protocol: Vitest's requests to a worker and the worker's responses ------------

/** What a worker answers to Vitest's `start`, `run`/`collect` and `stop`. */
export const WORKER_RESPONSE_TYPES = ['started', 'testfileFinished', 'stopped'] as const
export type WorkerResponseType = (typeof WORKER_RESPONSE_TYPES)[number]

export interface WorkerResponse {
  __vitest_worker_response__: true
  type: WorkerResponseType
  error?: unknown
  usedMemory?: number
}

export function isWorkerResponse(message: unknown, type?: WorkerResponseType): message is WorkerResponse {
  const response = message as Partial<WorkerResponse> | null
  return (
    typeof response === 'object' &&
    response !== null &&
    response.__vitest_worker_response__ === true &&
    (type === undefined || response.type === type)
  )
}

export function workerResponse(type: WorkerResponseType): WorkerResponse {
  return { __vitest_worker_response__: true, type }
}

// --- birpc, which carries the worker's calls to the host (and their answers) ------------------

/** A call: `m` the method, `a` its arguments, `i` the id its answer carries (absent for events). */
export interface RpcRequest {
  t: 'q'
  m: string
  a: unknown[]
  i?: string
  o?: boolean
}

export interface RpcResponse {
  t: 's'
  i: string
  r?: unknown
  e?: unknown
}

/**
 * A call by its envelope only (of `method`, if given): its fields are as the guest sent them,
 * for the wall to check.
 */
export function isRpcRequest(
  message: unknown,
  method?: WorkerRpcMethod,
): message is { t: 'q'; m?: unknown; a?: unknown; i?: unknown } {
  const request = message as { t?: unknown; m?: unknown } | null
  return request?.t === 'q' && (method === undefined || request.m === method)
}

export function isRpcResponse(message: unknown): message is RpcResponse {
  const response = message as Partial<RpcResponse> | null
  return response?.t === 's' && typeof response.i === 'string'
}

/** A call; one without an id is an event, which nothing answers. */
export function rpcRequest(method: WorkerRpcMethod, args: unknown[], id?: string): RpcRequest {
  return { t: 'q', m: method, a: args, ...(id !== undefined && { i: id }) }
}

export function rpcError(id: string, error: Error): RpcResponse {
  return { t: 's', i: id, e: error }
}

export function rpcResult(id: string, result: unknown): RpcResponse {
  return { t: 's', i: id, r: result }
}

// --- Test files: their tasks, ids and reported state -------------------------------------------

export type CreateFileTask = (filepath: string, root: string, projectName: string, pool: string) => RunnerTestFile

export interface StackFrame {
  file: string
  line: number
  column: number
  method: string
}

/** Pieces of the project's own Vitest (its `@vitest/runner` and `@vitest/utils`) the pool calls, and the calls its worker makes. */
export interface VitestRuntime {
  createFileTask: CreateFileTask
  /** Vitest's own stack parser, so the frames the pool judges are the frames Vitest would read. */
  parseStacktrace(stack: string, options: { ignoreStackEntries: RegExp[] }): StackFrame[]
  /** The host methods this Vitest's worker calls: any other is one no worker of it sends. */
  rpcMethods: ReadonlySet<WorkerRpcMethod>
}

export async function loadVitestRuntime(vitest: ProjectVitest): Promise<VitestRuntime> {
  const require = createRequire(join(vitest.dir, 'package.json'))
  const load = async (specifier: string) =>
    (await import(pathToFileURL(require.resolve(specifier)).href)) as Record<string, unknown>
  const runnerUtils = await load('@vitest/runner/utils')
  const sourceMap = await load('@vitest/utils/source-map')
  return {
    createFileTask: runnerUtils.createFileTask as CreateFileTask,
    parseStacktrace: sourceMap.parseStacktrace as VitestRuntime['parseStacktrace'],
    rpcMethods: new Set(MINORS[vitest.minor].rpcMethods),
  }
}

/** The id Vitest gives a test file's task (see taskFileId for its suites' and tests'). */
export function fileTaskId(project: TestProject, runtime: VitestRuntime, filepath: string): string {
  return runtime.createFileTask(filepath, project.config.root, project.name, POOL_NAME).id
}

/** The id of the file whose task this is: a suite's or test's id is its parent's, `_` and its place in the parent. */
export function taskFileId(taskId: string): string {
  const underscore = taskId.indexOf('_')
  return underscore === -1 ? taskId : taskId.slice(0, underscore)
}

/** The task (file, suite or test) Vitest has with this id so far, if any. */
export function collectedTask(project: TestProject, taskId: string): RunnerTask | undefined {
  return project.vitest.state.idMap.get(taskId)
}

/** The file tasks of this project Vitest has for a test file so far. */
export function collectedFiles(project: TestProject, filepath: string): RunnerTestFile[] {
  return (project.vitest.state.filesMap.get(filepath) ?? []).filter((file) => file.projectName === project.name)
}

/** The file's task as Vitest knows it so far (collected, running, done), if it does. */
export function knownFileTask(
  project: TestProject,
  runtime: VitestRuntime,
  filepath: string,
): RunnerTestFile | undefined {
  return collectedTask(project, fileTaskId(project, runtime, filepath)) as RunnerTestFile | undefined
}

/**
 * True once a file's run has begun: Vitest has more for it than its place in the queue. Its result
 * state says no more than that: a file-level beforeAll that fails makes it `fail` mid-run.
 */
export function fileBegun(project: TestProject, runtime: VitestRuntime, filepath: string): boolean {
  const state = knownFileTask(project, runtime, filepath)?.result?.state
  return state !== undefined && state !== 'queued'
}

/**
 * Messages that report test files as failed, in Vitest's own worker-to-host protocol (birpc
 * events, then the worker's `testfileFinished`), for files whose guest died under them: the
 * reporter then shows each file failed with the guest's error, and the run goes on.
 */
export function lostFileMessages(
  project: TestProject,
  runtime: VitestRuntime,
  filepaths: string[],
  error: Error & { code?: string },
  options: {
    /** Ends the run request too; not when the run's other files go on elsewhere. */
    finished: boolean
  },
): unknown[] {
  const message = error.code ? `[${error.code}] ${error.message}` : error.message
  const serialized = { name: error.name, message, stack: `${error.name}: ${message}`, code: error.code }
  const result = { state: 'fail' as const, errors: [serialized] }
  const files = filepaths.map(
    (filepath) =>
      knownFileTask(project, runtime, filepath) ?? {
        ...runtime.createFileTask(filepath, project.config.root, project.name, POOL_NAME),
        result,
      },
  )
  const uncollected = files.filter((file) => collectedTask(project, file.id) === undefined)
  return [
    ...(uncollected.length > 0 ? [rpcRequest('onCollected', [uncollected])] : []),
    rpcRequest('onTaskUpdate', [
      files.map((file) => [file.id, result, file.meta]),
      files.map((file) => [file.id, 'suite-finished', undefined]),
    ]),
    ...(options.finished ? [workerResponse('testfileFinished')] : []),
  ]
}

/** `taskId` of console output Vitest cannot tie to a test. */
export const UNKNOWN_TEST_ID = '__vitest__unknown_test__'

// --- Task events: the worker's reports of each test's and hook's start and end ----------------

/** What a task event begins in its task: its test body, a hook, or neither. */
export type TaskPhase = 'test' | 'hook' | 'none'

/** The task events (`onTaskUpdate`'s second argument) that begin or end a test body or a hook. */
const TASK_EVENT_PHASES = new Map<RunnerTaskEventPack[1], TaskPhase>([
  ['test-prepare', 'test'],
  ['test-retried', 'test'],
  ['before-hook-start', 'hook'],
  ['before-hook-end', 'test'],
  ['after-hook-start', 'hook'],
  ['after-hook-end', 'none'],
  ['test-finished', 'none'],
  ['test-failed-early', 'none'],
  ['test-cancel', 'none'],
  ['suite-finished', 'none'],
  ['suite-failed-early', 'none'],
])

/** The events of a worker's `onTaskUpdate` call as task id and event name, in order; none for any other message. */
function taskEvents(message: unknown): [taskId: string, event: unknown][] {
  if (!isRpcRequest(message, 'onTaskUpdate') || !Array.isArray(message.a)) return []
  const events: unknown = message.a[1]
  if (!Array.isArray(events)) return []
  return events.flatMap((event: unknown) =>
    Array.isArray(event) && typeof event[0] === 'string' ? [[event[0], event[1]] as [string, unknown]] : [],
  )
}

/** The phases a worker's `onTaskUpdate` call begins, in order, by task id; none for any other message. */
export function taskPhaseChanges(message: unknown): { taskId: string; phase: TaskPhase }[] {
  return taskEvents(message).flatMap(([taskId, event]) => {
    const phase = TASK_EVENT_PHASES.get(event as RunnerTaskEventPack[1])
    return phase === undefined ? [] : [{ taskId, phase }]
  })
}

/** The events the runner sends last for a file, on the file's own task. */
const FILE_END_EVENTS = new Set<unknown>(['suite-finished', 'suite-failed-early'])

/** The files (by task id) whose run a worker's `onTaskUpdate` call ends; none for any other message. */
export function endedFileIds(message: unknown): string[] {
  return taskEvents(message)
    .filter(([taskId, event]) => FILE_END_EVENTS.has(event) && taskFileId(taskId) === taskId)
    .map(([taskId]) => taskId)
}

// --- Coverage ---------------------------------------------------------------------------------

/**
 * Coverage results are grouped by Vite environment; none is named this, so the v8 provider reads
 * such files as they are on disk instead of through a Vite transform: they ran natively.
 */
const NATIVE_ENVIRONMENT = '__vitest_uml_native__'

/** The worker's `onAfterSuiteRun` call for V8 coverage the pool collected itself (Node processes a test started). */
export function nativeCoverageEvent(project: TestProject, result: unknown[], testFiles: string[]): RpcRequest {
  return rpcRequest('onAfterSuiteRun', [
    { coverage: { result }, environment: NATIVE_ENVIRONMENT, projectName: project.name, testFiles },
  ])
}

// --- Snapshots ----------------------------------------------------------------------------------

/**
 * Makes the project's workers load the pool's snapshot environment, which writes through the host,
 * built on the worker's own Vitest's (the serialized config is computed on each read).
 */
export function useSnapshotEnvironment(project: TestProject, minor: VitestMinor): void {
  project.config.snapshotEnvironment = join(guestModulesDir(), MINORS[minor].snapshotEnvironment)
}

/** Vitest's snapshot update mode now (watch mode's `u` switches it to `all` for a run). */
export function snapshotUpdateMode(project: TestProject): 'all' | 'new' | 'none' {
  return project.vitest.snapshot.options.updateSnapshot
}

/** Where Vitest keeps a test file's snapshots, as its `resolveSnapshotPath` call answers a worker. */
export function snapshotPath(project: TestProject, testFile: string): string {
  return project.vitest.snapshot.resolvePath(testFile, { config: project.serializedConfig })
}
