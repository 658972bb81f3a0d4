import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { invalidOptionsError, parseOptions } from '../../core/index.js'

/** The lock file's name, beside the Vitest config (or wherever the CLI runs). */
export const LOCK_FILE_NAME = 'vitest-uml.lock.json'

const DIGEST = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'a sha256 digest')

const lockEntrySchema = z.strictObject({
  /** What the reference pointed at when it was pinned: an index or a manifest. */
  digest: DIGEST,
  /** The platform picked from it. */
  platform: z.string(),
  /** The image manifest for that platform: what the cache is keyed by. */
  manifest: DIGEST,
})

const lockFileSchema = z.strictObject({
  lockfileVersion: z.literal(1),
  /** By canonical reference (`docker.io/library/alpine:3.21`). */
  images: z.record(z.string(), lockEntrySchema),
})

export type LockEntry = z.infer<typeof lockEntrySchema>
export type LockFile = z.infer<typeof lockFileSchema>

/** The lock file's contents; an empty lock when there is none yet. */
export async function readLockFile(path: string): Promise<LockFile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lockfileVersion: 1, images: {} }
    throw error
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw invalidOptionsError(`it is not JSON (${(cause as Error).message})`, invalidLockFile(path))
  }
  return parseOptions(lockFileSchema, json, invalidLockFile(path))
}

function invalidLockFile(path: string) {
  return {
    subject: `The image lock file ${path} is invalid`,
    fix: 'Restore it from version control, or delete it and pin the images again with `vitest-uml images pull <ref>`.',
    details: { lockFile: path },
  }
}

/** Writers queued per lock file, so cells pinning images at once do not lose each other's entries. */
const pendingWrites = new Map<string, Promise<unknown>>()

/**
 * Records `ref`'s pin: re-reads the file, sets the entry, and replaces the file in one rename
 * (sorted keys, so the committed file diffs cleanly).
 */
export async function writeLockEntry(path: string, ref: string, entry: LockEntry): Promise<void> {
  const previous = pendingWrites.get(path) ?? Promise.resolve()
  const next = previous
    .catch(() => {})
    .then(async () => {
      const lock = await readLockFile(path)
      lock.images[ref] = entry
      const images = Object.fromEntries(Object.entries(lock.images).sort(([a], [b]) => a.localeCompare(b)))
      const temp = join(dirname(path), `.${LOCK_FILE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}`)
      try {
        await writeFile(temp, `${JSON.stringify({ lockfileVersion: 1, images }, null, 2)}\n`)
        await rename(temp, path)
      } finally {
        await rm(temp, { force: true })
      }
    })
  pendingWrites.set(path, next)
  try {
    await next
  } finally {
    if (pendingWrites.get(path) === next) pendingWrites.delete(path)
  }
}
