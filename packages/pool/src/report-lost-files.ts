import type { RunnerTestFile as File } from 'vitest'
import type { TestProject } from 'vitest/node'

export type CreateFileTask = (filepath: string, root: string, projectName: string, pool: string) => File

/**
 * Messages that report test files as failed, in Vitest's own worker-to-host protocol (birpc
 * requests, then the worker's `testfileFinished` response), for files whose guest died under
 * them: the reporter then shows each file failed with the guest's error, and the run goes on.
 */
export function lostFileMessages(
  project: TestProject,
  filepaths: string[],
  error: Error & { code?: string },
  createFileTask: CreateFileTask,
  options: {
    /** Ends the run request too; not when the run's other files go on elsewhere. */
    finished: boolean
  } = { finished: true },
): unknown[] {
  const message = error.code ? `[${error.code}] ${error.message}` : error.message
  const serialized = { name: error.name, message, stack: `${error.name}: ${message}`, code: error.code }
  const result = { state: 'fail' as const, errors: [serialized] }
  const files = filepaths.map((filepath) => {
    const known = project.vitest.state.idMap.get(createFileTask(filepath, project.config.root, project.name, 'uml').id)
    return (
      (known as File | undefined) ?? { ...createFileTask(filepath, project.config.root, project.name, 'uml'), result }
    )
  })
  const uncollected = files.filter((file) => !project.vitest.state.idMap.has(file.id))
  return [
    ...(uncollected.length > 0 ? [{ t: 'q', m: 'onCollected', a: [uncollected] }] : []),
    {
      t: 'q',
      m: 'onTaskUpdate',
      a: [
        files.map((file) => [file.id, result, file.meta]),
        files.map((file) => [file.id, 'suite-finished', undefined]),
      ],
    },
    ...(options.finished ? [{ __vitest_worker_response__: true, type: 'testfileFinished' }] : []),
  ]
}
