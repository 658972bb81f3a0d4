import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, resolve, sep } from 'node:path'

/**
 * File operations a test worker in the guest asks the host to do: the project is read-only in
 * the guest, so snapshot files (and test files, for inline snapshots) are written here. Only
 * paths inside the allowed roots are served: the guest is not trusted to name host paths.
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

export function isHostFsRequest(message: unknown): message is HostFsRequest {
  return typeof message === 'object' && message !== null && (message as HostFsRequest).__vitest_uml_fs__ === true
}

export async function serveHostFsRequest(request: HostFsRequest, roots: string[]): Promise<HostFsReply> {
  const reply = { __vitest_uml_fs_reply__: true as const, id: request.id }
  const path = resolve(request.path)
  if (!roots.some((root) => path.startsWith(root + sep))) {
    return {
      ...reply,
      error: `vitest-pool-uml writes snapshots only inside the project (${roots.join(', ')}), not ${path}`,
    }
  }
  try {
    switch (request.op) {
      case 'read':
        return {
          ...reply,
          result: await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) =>
            error.code === 'ENOENT' ? null : Promise.reject(error),
          ),
        }
      case 'write':
        await mkdir(dirname(path), { recursive: true })
        await writeFile(path, request.content ?? '', 'utf8')
        return reply
      case 'remove':
        await rm(path, { force: true })
        return reply
      case 'mkdir':
        await mkdir(path, { recursive: true })
        return reply
    }
  } catch (error) {
    return { ...reply, error: (error as Error).message }
  }
}
