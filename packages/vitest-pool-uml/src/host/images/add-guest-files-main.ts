import { readFile } from 'node:fs/promises'
import { addGuestFiles } from './guest-files.js'
import type { RootfsEntry } from './rootfs-index.js'

/**
 * `node add-guest-files-main.js <staging> <index.json>`: addGuestFiles as a program, for
 * tarballToExt4 to run where the staging tree is: in the mount namespace of its tmpfs (and,
 * without host root, as root of the id-mapping namespace, which owns the tree).
 */
const [staging, indexFile] = process.argv.slice(2)
try {
  const entries = JSON.parse(await readFile(indexFile!, 'utf8')) as Array<[string, RootfsEntry]>
  await addGuestFiles(staging!, new Map(entries))
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`)
  process.exitCode = 1
}
