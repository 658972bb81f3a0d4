import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { findHostTool } from './host-tools.js'

/**
 * Deletes a directory tree, never descending into a file system mounted inside it: a chroot
 * build that was killed can leave the host's /proc, /sys or /dev mounted there, and a plain
 * recursive delete would go through them. What sits under such a mount stays, and it fails.
 */
export async function removeTree(path: string): Promise<void> {
  // Also with a PATH that lacks it: cleaning up must not fail where the run failed for want of a tool.
  const rm = (await findHostTool('rm')) ?? '/bin/rm'
  await promisify(execFile)(rm, ['-rf', '--one-file-system', '--', path])
}
