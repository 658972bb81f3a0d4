import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as delay } from 'node:timers/promises'

/** Set by the global setup and inherited by every process the suite starts, down to bwrap. */
export const RUN_MARKER = 'VITEST_UML_E2E_RUN'

/**
 * Sandboxed UML kernels started by this test run: processes running the sandbox's kernel path
 * whose parent chain holds a process (bwrap, outside the sandbox) with this run's marker in its
 * environment. Guests of other runs on the same machine are not counted.
 */
export async function listUmlProcesses(): Promise<string[]> {
  const marker = `${RUN_MARKER}=${process.env[RUN_MARKER] ?? ''}`
  if (marker.endsWith('=')) throw new Error(`${RUN_MARKER} is not set: the e2e global setup sets it.`)
  const found: string[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const cmdline = await readProc(entry, 'cmdline')
    if (!cmdline?.startsWith('/run/vitest-uml/kernel/linux\0')) continue
    if (await hasMarkedAncestor(entry, marker)) found.push(`${entry} ${cmdline.replaceAll('\0', ' ').trim()}`)
  }
  return found
}

async function hasMarkedAncestor(pid: string, marker: string): Promise<boolean> {
  let current: string | undefined = pid
  for (let depth = 0; current && current !== '0' && depth < 16; depth++) {
    const environ = await readProc(current, 'environ')
    if (environ?.split('\0').includes(marker)) return true
    const status = await readProc(current, 'status')
    current = /^PPid:\s+(\d+)/m.exec(status ?? '')?.[1]
  }
  return false
}

async function readProc(pid: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return undefined
  }
}

/** Polls until this run has no guest left (sandboxes go with their parent process, not at once). */
export async function waitForNoUmlProcesses(timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  let left = await listUmlProcesses()
  while (left.length > 0 && Date.now() < deadline) {
    await delay(100)
    left = await listUmlProcesses()
  }
  return left
}
