import { readFile } from 'node:fs/promises'
import { SANDBOX_KERNEL_DIR } from '../core/index.js'
import { processTreePids } from './process-tree.js'

/**
 * The process group of the UML kernel that sandbox `sandboxPid` runs: bubblewrap starts the kernel
 * in a session of its own (`--new-session`), and the kernel's userspace stubs stay in its group.
 * Undefined once the kernel is gone.
 */
export async function findUmlProcessGroup(sandboxPid: number): Promise<number | undefined> {
  for (const pid of await processTreePids(sandboxPid)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.startsWith(`${SANDBOX_KERNEL_DIR}/linux\0`)) return pid
  }
  return undefined
}

/** Stop signals take effect asynchronously: waits (briefly) until the process shows as stopped. */
export async function waitUntilStopped(pid: number, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    if (state === 'T' || state === '' || state === 'Z') return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
