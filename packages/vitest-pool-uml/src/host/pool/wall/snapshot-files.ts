import { constants } from 'node:fs'
import { mkdir, open, unlink } from 'node:fs/promises'
import { basename, dirname, relative, resolve, sep } from 'node:path'
import { type HostFiles, realPath } from './host-files.js'
import { checkInlineSnapshotRewrite } from './inline-snapshots.js'
import { checkSnapFileAddsOnly } from './snap-file.js'

/**
 * The file operations the snapshot environment in the guest asks the host for (the project is
 * read-only in the guest): reading and writing `.snap` files, `toMatchFileSnapshot` targets, and
 * the running test file for inline snapshots. See src/worker/host-snapshot-environment.ts.
 */
export interface HostFsRequest {
  __vitest_uml_fs__: true
  id: number
  op: 'read' | 'write' | 'remove' | 'mkdir'
  path: string
  content?: string
}

export interface HostFsReply {
  __vitest_uml_fs_reply__: true
  id: number
  result?: string | null
  error?: string
}

const OPERATIONS = new Set(['read', 'write', 'remove', 'mkdir'])

/** What Vitest's snapshot files end in. */
const SNAPSHOT_EXTENSION = '.snap'

export function isHostFsRequest(message: unknown): boolean {
  return typeof message === 'object' && message !== null && '__vitest_uml_fs__' in message
}

/** The request, if it has exactly the shape the guest's snapshot environment sends. */
export function parseHostFsRequest(message: unknown): HostFsRequest | undefined {
  const request = message as Partial<HostFsRequest>
  const valid =
    request.__vitest_uml_fs__ === true &&
    Number.isSafeInteger(request.id) &&
    typeof request.op === 'string' &&
    OPERATIONS.has(request.op) &&
    typeof request.path === 'string' &&
    (request.content === undefined || typeof request.content === 'string')
  return valid ? (request as HostFsRequest) : undefined
}

/** What the host knows of the worker that asks: its files, the project's snapshot settings. */
export interface SnapshotScope {
  files: HostFiles
  /** The test files Vitest gave this worker. */
  testFiles: ReadonlySet<string>
  /** Where Vitest keeps a test file's snapshots (`resolveSnapshotPath`). */
  snapshotPath(testFile: string): string
  /** Vitest's update mode, enforced here: `none` in CI, `new` by default, `all` with `-u`. */
  updateMode: 'all' | 'new' | 'none'
  /** Code the host itself runs: config files and what they import, global setup files. */
  hostCode: ReadonlySet<string>
  /** True for files Vite has transformed for a test (code, not snapshot output). */
  isModule(path: string): boolean
  /** True for files matching the project's test globs. */
  isTestFile(path: string): boolean
}

type Target = { kind: 'inline' } | { kind: 'snap' } | { kind: 'file' }

/** Refused, with why; the guest's snapshot environment rejects with this message. */
class Refusal extends Error {}

const HINT =
  'Snapshots are written to the host only as Vitest writes them (docs/security.md); a test that must write to the host needs a writable share (shares: [{ path, writable: true }]).'

/**
 * Serves one request under the snapshot rules: only `.snap` files of this worker's test files,
 * `toMatchFileSnapshot` targets beside a test file of this worker or in a `__snapshots__`
 * directory, and this worker's test files for inline snapshots (where a rewrite may change
 * nothing but inline snapshot arguments); inside the project, on real paths (no symlinks; files
 * are opened with O_NOFOLLOW), never config or setup code, `package.json`, `node_modules`, dot
 * files or directories, or what `server.fs.deny` hides. Vitest's update mode is enforced here.
 */
export async function serveHostFsRequest(
  request: HostFsRequest,
  /** Without one (the wall switched off), every request is served as asked. */
  scope: SnapshotScope | undefined,
): Promise<HostFsReply> {
  const reply = { __vitest_uml_fs_reply__: true as const, id: request.id }
  try {
    const path = request.path
    const target = scope ? classify(path, scope) : undefined
    switch (request.op) {
      case 'read':
        return { ...reply, result: await readNoFollow(path) }
      case 'mkdir':
        // Parents are made when a file is written into them; nothing is made for a bare request.
        return reply
      case 'remove':
        if (scope && (target?.kind !== 'snap' || scope.updateMode !== 'all')) {
          throw new Refusal('only obsolete snapshot files are removed, and only with -u')
        }
        await removeFile(path)
        return reply
      case 'write':
        if (scope) await checkWrite(path, request.content ?? '', target as Target, scope)
        await writeFile(path, request.content ?? '', scope !== undefined)
        return reply
    }
  } catch (error) {
    const reason = error instanceof Refusal ? `${error.message}. ${HINT}` : (error as Error).message
    return { ...reply, error: `vitest-uml refused to ${request.op} ${request.path}: ${reason}` }
  }
}

function classify(path: string, scope: SnapshotScope): Target {
  if (!path.startsWith('/') || resolve(path) !== path || path.includes('\0')) {
    throw new Refusal('not an absolute, normalized path')
  }
  const { files } = scope
  if (!files.isInRoot(path)) throw new Refusal('it is outside the project')
  if (realPath(path) !== path) throw new Refusal('its path goes through a symbolic link')
  const parts = relative(files.root, path).split(sep)
  if (parts.some((part) => part === 'node_modules' || part.startsWith('.')) || basename(path) === 'package.json') {
    throw new Refusal('node_modules, package.json and dot files are never written by snapshots')
  }
  if (scope.hostCode.has(path)) throw new Refusal('it is code the host runs (config or global setup)')
  if (!files.allows(path)) throw new Refusal(`server.fs.deny or server.fs.allow keeps it from guests`)
  if (scope.testFiles.has(path)) return { kind: 'inline' }
  if ([...scope.testFiles].some((testFile) => scope.snapshotPath(testFile) === path)) return { kind: 'snap' }
  const besideTest = [...scope.testFiles].some((testFile) => path.startsWith(dirname(testFile) + sep))
  if (!besideTest && !parts.includes('__snapshots__')) {
    throw new Refusal("file snapshots go in the test file's directory (or below it) or in a __snapshots__ directory")
  }
  if (scope.isTestFile(path) || scope.isModule(path)) throw new Refusal('it is a test file or a module of the project')
  // It would be taken for another test file's snapshots.
  if (path.endsWith(SNAPSHOT_EXTENSION)) throw new Refusal(`file snapshots may not end in ${SNAPSHOT_EXTENSION}`)
  return { kind: 'file' }
}

async function checkWrite(path: string, content: string, target: Target, scope: SnapshotScope): Promise<void> {
  if (scope.updateMode === 'none') throw new Refusal('snapshots are not written in this run (CI, or update: none)')
  const previous = await readNoFollow(path)
  if (target.kind === 'inline') {
    if (previous === null) throw new Refusal('the test file is gone')
    const problem = checkInlineSnapshotRewrite(path, previous, content, scope.updateMode === 'all')
    if (problem) throw new Refusal(`a rewrite of a test file for its inline snapshots, but ${problem}`)
  } else if (previous !== null && scope.updateMode === 'new') {
    const problem =
      target.kind === 'snap'
        ? checkSnapFileAddsOnly(previous, content)
        : 'it would replace a file snapshot, which needs -u'
    if (problem) throw new Refusal(problem)
  }
}

/** Writes a file; `confined`, it refuses to go through a symbolic link anywhere on the path. */
async function writeFile(path: string, content: string, confined: boolean): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  if (confined && realPath(dirname(path)) !== dirname(path)) throw new Refusal('its path goes through a symbolic link')
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (confined ? constants.O_NOFOLLOW : 0)
  const handle = await open(path, flags, 0o644)
  try {
    await handle.writeFile(content, 'utf8')
  } finally {
    await handle.close()
  }
}

async function readNoFollow(path: string): Promise<string | null> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  try {
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}

async function removeFile(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) =>
    error.code === 'ENOENT' ? undefined : Promise.reject(error),
  )
}
