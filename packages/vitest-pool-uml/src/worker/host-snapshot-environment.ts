import type { VitestSnapshotEnvironment } from 'vitest/runtime'

/**
 * Runs inside the guest, in the Vitest worker. The project is mounted read-only there, so snapshot
 * files, and test files rewritten for inline snapshots, are read and written by the host through
 * the worker's IPC channel (see src/wall/snapshot-files.ts); reads go there too, since hostfs does
 * not see host-side changes to files it has cached.
 */
type Operation = 'read' | 'write' | 'remove' | 'mkdir'

const pending = new Map<number, { resolve: (value: string | null) => void; reject: (error: Error) => void }>()
let nextId = 1

process.on(
  'message',
  (message: { __vitest_uml_fs_reply__?: true; id: number; result?: string | null; error?: string }) => {
    if (message?.__vitest_uml_fs_reply__ !== true) return
    const entry = pending.get(message.id)
    if (!entry) return
    pending.delete(message.id)
    if (message.error) entry.reject(new Error(message.error))
    else entry.resolve(message.result ?? null)
  },
)

function onHost(op: Operation, path: string, content?: string): Promise<string | null> {
  const send = process.send?.bind(process)
  if (!send) return Promise.reject(new Error('vitest-pool-uml: the snapshot environment needs the worker IPC channel'))
  const id = nextId++
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject })
    send({ __vitest_uml_fs__: true, id, op, path, ...(content !== undefined && { content }) })
  })
}

/**
 * The snapshot environment of the worker's own Vitest (which module has it depends on the minor
 * release: see the pool's vitest-internals.ts), with every file operation done by the host.
 */
export function hostSnapshotEnvironment(Base: typeof VitestSnapshotEnvironment): VitestSnapshotEnvironment {
  class HostSnapshotEnvironment extends Base {
    override async prepareDirectory(dirPath: string): Promise<void> {
      await onHost('mkdir', dirPath)
    }

    override async saveSnapshotFile(filepath: string, snapshot: string): Promise<void> {
      await onHost('write', filepath, snapshot)
    }

    override readSnapshotFile(filepath: string): Promise<string | null> {
      return onHost('read', filepath)
    }

    override async removeSnapshotFile(filepath: string): Promise<void> {
      await onHost('remove', filepath)
    }
  }
  return new HostSnapshotEnvironment()
}
