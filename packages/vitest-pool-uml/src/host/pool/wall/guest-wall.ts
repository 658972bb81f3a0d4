import { isWallOff } from '../../core/index.js'
import {
  endedFileIds,
  fileTaskId,
  isRpcRequest,
  isRpcResponse,
  isWorkerResponse,
  rpcError,
  rpcResult,
  WORKER_RESPONSE_TYPES,
} from '../vitest-internals.js'
import { sanitizeGuestError } from './guest-errors.js'
import { fetchResultProblem, resolveResultProblem } from './module-results.js'
import {
  type HostFsReply,
  type HostFsRequest,
  isHostFsRequest,
  parseHostFsRequest,
  serveHostFsRequest,
} from './snapshot-files.js'
import { accessDenied, protocolViolation } from './wall-errors.js'
import type { WallSettings } from './wall-settings.js'
import { checkRpcRequest, projectScriptsOnly, type RpcScope } from './worker-rpc.js'

/** Module calls a guest may have waiting for their answers at once. */
const MAX_PENDING_CALLS = 10_000

/** Where a message from the guest goes. */
export type InboundVerdict =
  | { to: 'vitest'; message: unknown }
  | { to: 'guest'; message: unknown }
  | { to: 'host-fs'; request: HostFsRequest }
  | { to: 'nowhere' }

/**
 * The wall between one guest and the host services its Vitest worker reaches over the channel:
 * every message from the guest is checked before Vitest sees it (see worker-rpc.ts for each
 * method's rule, snapshot-files.ts for file writes), and the host's answers to module fetches are
 * checked before the guest gets them. A message no Vitest worker would send throws
 * UML_GUEST_PROTOCOL; the pool then stops the guest and fails its file.
 */
export class GuestWall {
  private readonly testFiles = new Set<string>()
  private readonly fileIds = new Set<string>()
  private readonly endedFileIds = new Set<string>()
  /** Module fetches and resolutions the guest waits on, by call id: their answers are checked. */
  private readonly pending = new Map<string, { method: 'fetch' | 'resolve'; url: string }>()
  private readonly scope: RpcScope
  /** Switched off for the escape suite's controls (see WALL_OFF_VARIABLE): everything passes. */
  private readonly off = isWallOff()

  constructor(private readonly settings: WallSettings) {
    const { project, files, runtime } = settings
    this.scope = {
      project,
      files,
      parseStack: (stack) => runtime.parseStacktrace(stack, { ignoreStackEntries: [] }),
      methods: runtime.rpcMethods,
      testFiles: this.testFiles,
      fileIds: this.fileIds,
      endedFileIds: this.endedFileIds,
      consoleChars: 0,
    }
  }

  /** Test files Vitest gives this worker: the only ones its calls may be about. A file run again runs anew. */
  admitFiles(paths: string[]): void {
    this.scope.consoleChars = 0
    for (const path of paths) {
      const id = this.fileId(path)
      this.testFiles.add(path)
      this.fileIds.add(id)
      this.endedFileIds.delete(id)
    }
  }

  /** True once the worker has sent a file's last event: its results are final. */
  hasEnded(path: string): boolean {
    return this.endedFileIds.has(this.fileId(path))
  }

  /** Judges a message from the guest. Throws UML_GUEST_PROTOCOL for one no Vitest worker sends. */
  inbound(message: unknown): InboundVerdict {
    const verdict = this.judge(message)
    if (verdict.to === 'vitest') for (const id of endedFileIds(verdict.message)) this.endedFileIds.add(id)
    return verdict
  }

  private fileId(path: string): string {
    return fileTaskId(this.settings.project, this.settings.runtime, path)
  }

  private judge(message: unknown): InboundVerdict {
    if (this.off) {
      return isHostFsRequest(message) ? { to: 'host-fs', request: message as HostFsRequest } : { to: 'vitest', message }
    }
    if (typeof message !== 'object' || message === null) throw protocolViolation('a message that is not an object')
    if (hasKey(message, '__proto__')) throw protocolViolation('an object with a "__proto__" key')
    if (isHostFsRequest(message)) {
      const request = parseHostFsRequest(message)
      if (!request) throw protocolViolation('a malformed snapshot file request')
      return { to: 'host-fs', request }
    }
    if (isWorkerResponse(message)) {
      if (!(WORKER_RESPONSE_TYPES as readonly string[]).includes(message.type)) {
        throw protocolViolation('a worker response of an unknown type')
      }
      if (message.error !== undefined) {
        message.error = sanitizeGuestError(message.error, this.settings.files, this.scope.parseStack)
      }
      return { to: 'vitest', message }
    }
    // The host never waits on the worker, so answers from it have no one to go to.
    if (isRpcResponse(message)) return { to: 'nowhere' }
    if (!isRpcRequest(message)) throw protocolViolation('a message of an unknown kind')
    const verdict = checkRpcRequest(message, this.scope)
    if (!('forward' in verdict)) {
      const id = (message as { i?: string }).i
      if (id === undefined) return { to: 'nowhere' }
      return { to: 'guest', message: 'refuse' in verdict ? rpcError(id, verdict.refuse) : rpcResult(id, undefined) }
    }
    const call = verdict.forward
    if ((call.m === 'fetch' || call.m === 'resolve') && call.i !== undefined) {
      if (this.pending.has(call.i) || this.pending.size >= MAX_PENDING_CALLS) {
        throw protocolViolation('a module call id in use, or too many module calls at once')
      }
      this.pending.set(call.i, { method: call.m, url: call.a[0] as string })
    }
    return { to: 'vitest', message: call }
  }

  /** Judges a message from Vitest to the guest: a module it may not have is replaced by a refusal. */
  outbound(message: unknown): unknown {
    if (this.off || !isRpcResponse(message)) return message
    const call = this.pending.get(message.i)
    if (!call) return message
    this.pending.delete(message.i)
    if (message.e !== undefined) return message
    const { files } = this.settings
    const problem =
      call.method === 'fetch' ? fetchResultProblem(message.r, files) : resolveResultProblem(message.r, files)
    if (!problem) return message
    return rpcError(
      message.i,
      accessDenied(
        `load ${call.url}`,
        `${problem} is not inside the directories Vite lets tests load from (server.fs.allow: ${files.allowedDirs.join(', ')}), or server.fs.deny covers it`,
        'Add its directory to server.fs.allow in the Vite config if tests need it.',
      ),
    )
  }

  /** The V8 coverage scripts of the project's own files, of those a guest reported for its child processes. */
  projectScripts(scripts: unknown[]): unknown[] {
    return this.off ? scripts : projectScriptsOnly(scripts, this.settings.files)
  }

  /** Serves a snapshot file request under the snapshot rules. */
  serveHostFs(request: HostFsRequest): Promise<HostFsReply> {
    const scope = { ...this.settings.snapshots, files: this.settings.files, testFiles: this.testFiles }
    return serveHostFsRequest(request, this.off ? undefined : scope)
  }
}

/** True if any object in the value (a guest's message: plain data, possibly cyclic) has this own key. */
function hasKey(value: object, key: string): boolean {
  const seen = new Set<object>()
  const stack: object[] = [value]
  while (stack.length > 0) {
    const current = stack.pop() as Record<string, unknown>
    if (seen.has(current)) continue
    seen.add(current)
    if (Object.hasOwn(current, key)) return true
    if (ArrayBuffer.isView(current)) continue
    for (const child of Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push(child)
    }
  }
  return false
}
