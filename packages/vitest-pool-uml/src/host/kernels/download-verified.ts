import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Progress, UmlError } from '../core/index.js'

export interface VerifiedDownload {
  url: string
  /** Where the file is written; the caller deletes it. */
  file: string
  sha256: string
  /** The exact size when pinned; otherwise only `maxBytes` bounds it. */
  size?: number
  maxBytes: number
  label: string
  progress: Progress
  /** The coded errors of the caller, worded for what is downloaded. */
  errors: {
    unreachable(what: string, cause?: unknown, status?: number): UmlError
    mismatch(expected: string, got: string): UmlError
  }
}

/** Downloads a file, hashing it while it streams to disk; a wrong size or hash is an error. */
export async function downloadVerified(download: VerifiedDownload): Promise<void> {
  const { progress, errors } = download
  progress.start(download.label, download.size)
  try {
    const response = await request(download)
    const { received, sha256 } = await saveHashing(response, download)
    if (download.size !== undefined && received !== download.size) {
      throw errors.mismatch(`${download.size} bytes`, `${received} bytes`)
    }
    if (sha256 !== download.sha256) throw errors.mismatch(`sha256 ${download.sha256}`, `sha256 ${sha256}`)
  } catch (error) {
    progress.end('failed')
    throw error
  }
  progress.end('verified')
}

async function request({ url, errors }: VerifiedDownload): Promise<Response> {
  let response: Response
  try {
    response = await fetch(url)
  } catch (error) {
    throw errors.unreachable(`could not reach ${url}: ${describe(error)}`, error)
  }
  if (response.ok) return response
  await response.body?.cancel()
  throw errors.unreachable(`${url} answered HTTP ${response.status} ${response.statusText}`, undefined, response.status)
}

async function saveHashing(
  response: Response,
  { url, file, size, maxBytes, progress, errors }: VerifiedDownload,
): Promise<{ received: number; sha256: string }> {
  if (!response.body) throw errors.unreachable(`${url} answered with an empty body`)
  const limit = size ?? maxBytes
  const hash = createHash('sha256')
  let received = 0
  try {
    await pipeline(
      Readable.fromWeb(response.body),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          received += chunk.length
          // Stop a runaway response early instead of filling the disk.
          if (received > limit)
            throw errors.mismatch(
              size === undefined ? `at most ${limit} bytes` : `${limit} bytes`,
              `more than ${limit} bytes`,
            )
          hash.update(chunk)
          progress.update(received)
          yield chunk
        }
      },
      createWriteStream(file),
    )
  } catch (error) {
    if (error instanceof UmlError) throw error
    throw errors.unreachable(`the download of ${url} broke off: ${describe(error)}`, error)
  }
  return { received, sha256: hash.digest('hex') }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message
}
