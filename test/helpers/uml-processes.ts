import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'
import { listMarkedGuests } from 'vitest-pool-uml/api'

/** Set by the global setup and inherited by every process the suite starts, down to bwrap. */
export const RUN_MARKER = 'VITEST_UML_E2E_RUN'

/** Sandboxed UML kernels started by this test run; guests of other runs on the machine are not counted. */
export function listUmlProcesses(): string[] {
  const value = process.env[RUN_MARKER]
  if (!value) throw new Error(`${RUN_MARKER} is not set: the e2e global setup sets it.`)
  return listMarkedGuests(`${RUN_MARKER}=${value}`)
}

/** Polls until this run has no guest left (sandboxes go with their parent process, not at once). */
export async function waitForNoUmlProcesses(timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  let left = listUmlProcesses()
  while (left.length > 0 && Date.now() < deadline) {
    await delay(100)
    left = listUmlProcesses()
  }
  return left
}

/** Host processes whose command line mentions `text` (a run's cache path, say), as command lines. */
export async function listProcessesMentioning(text: string): Promise<string[]> {
  const found: string[] = []
  for (const pid of (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry))) {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ')
    if (cmdline.includes(text)) found.push(`${pid} ${cmdline.trim()}`)
  }
  return found
}
