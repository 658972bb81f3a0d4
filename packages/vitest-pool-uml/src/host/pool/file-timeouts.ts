import type { RunnerTask as Task } from 'vitest'
import type { TestProject } from 'vitest/node'
import { collectedFiles } from './vitest-internals.js'

/**
 * How long a worker running these files can go without a word and still be doing what Vitest
 * allows: the longest of testTimeout, hookTimeout and the timeouts the files' collected tests set
 * themselves. A test awaiting a child process reports nothing until it ends or times out; past
 * this, nothing in it can still be waiting on a timer of its own.
 */
export function longestTimeout(project: TestProject, files: readonly string[]): number {
  return Math.max(
    project.config.testTimeout,
    project.config.hookTimeout,
    ...collectedTests(project, files).map((test) => ownTimeout(test) ?? 0),
  )
}

/** The tests Vitest collected from these files (so far), in order. */
export function collectedTests(project: TestProject, files: readonly string[]): Task[] {
  const tests: Task[] = []
  const visit = (task: Task) => {
    if (task.type === 'test') tests.push(task)
    else if ('tasks' in task) for (const child of task.tasks) visit(child)
  }
  for (const path of files) for (const file of collectedFiles(project, path)) visit(file)
  return tests
}

/** The timeout a test was given itself (`it(name, fn, 60_000)`), if any. */
export function ownTimeout(task: Task): number | undefined {
  const timeout = (task as { timeout?: unknown }).timeout
  return typeof timeout === 'number' && timeout > 0 ? timeout : undefined
}

/** Whether a timeout bounds anything: Vitest takes 0 (and Infinity) as none. */
export function isLimit(timeout: number): boolean {
  return timeout > 0 && timeout !== Number.POSITIVE_INFINITY
}

/**
 * fileTimeout's default for these files: six times the longest timeout that applies (60 s with
 * Vitest's defaults); none when Vitest's own timeouts are off. The headroom is for synchronous
 * work: Vitest lets a test that blocks its worker (`execFileSync` of an installer) pass however
 * long it blocks, and a guest runs such work slower than the host.
 */
export function defaultFileTimeout(project: TestProject, files: readonly string[]): number | undefined {
  const longest = longestTimeout(project, files)
  return isLimit(longest) ? DEFAULT_FILE_TIMEOUT_FACTOR * longest : undefined
}

const DEFAULT_FILE_TIMEOUT_FACTOR = 6
