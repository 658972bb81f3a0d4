import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { basename, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { type Progress, UmlError } from '@vitest-uml/core'
import type { DebPin } from './manifest-schema.js'

export interface DownloadOptions {
  mirror: string
  /** Where the .deb is written; the caller deletes it. */
  dir: string
  progress: Progress
}

/** Downloads a pinned .deb, hashing it while it streams to disk; a wrong size or hash is an error. */
export async function downloadDeb(pin: DebPin, options: DownloadOptions): Promise<string> {
  const url = `${options.mirror}/${pin.filename}`
  const file = join(options.dir, basename(pin.filename))
  options.progress.start(`Downloading ${pin.package} ${pin.version}`, pin.size)
  try {
    const response = await request(url, pin, options.mirror)
    const { received, sha256 } = await saveVerifying(response, file, pin, url, options)
    if (received !== pin.size) throw mismatch(pin, url, `${pin.size} bytes`, `${received} bytes`)
    if (sha256 !== pin.sha256) throw mismatch(pin, url, `sha256 ${pin.sha256}`, `sha256 ${sha256}`)
  } catch (error) {
    options.progress.end('failed')
    throw error
  }
  options.progress.end('verified')
  return file
}

async function saveVerifying(
  response: Response,
  file: string,
  pin: DebPin,
  url: string,
  options: DownloadOptions,
): Promise<{ received: number; sha256: string }> {
  if (!response.body) throw fetchFailed(pin, options.mirror, `${url} answered with an empty body`)
  const hash = createHash('sha256')
  let received = 0
  try {
    await pipeline(
      Readable.fromWeb(response.body),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          received += chunk.length
          // Stop a runaway response early instead of filling the disk.
          if (received > pin.size) throw mismatch(pin, url, `${pin.size} bytes`, `more than ${pin.size} bytes`)
          hash.update(chunk)
          options.progress.update(received)
          yield chunk
        }
      },
      createWriteStream(file),
    )
  } catch (error) {
    if (error instanceof UmlError) throw error
    throw fetchFailed(pin, options.mirror, `the download of ${url} broke off: ${describe(error)}`, error)
  }
  return { received, sha256: hash.digest('hex') }
}

async function request(url: string, pin: DebPin, mirror: string): Promise<Response> {
  let response: Response
  try {
    response = await fetch(url)
  } catch (error) {
    throw fetchFailed(pin, mirror, `could not reach ${url}: ${describe(error)}`, error)
  }
  if (response.ok) return response
  await response.body?.cancel()
  if (response.status === 404) {
    throw new UmlError(
      'UML_KERNEL_FETCH_FAILED',
      `${pin.package} ${pin.version} is no longer on the mirror ${mirror} (HTTP 404 for ${url}). Debian deletes ` +
        'superseded versions: update the pins in kernels/manifest.json, or set VITEST_UML_DEBIAN_MIRROR to a ' +
        'mirror that still has it (for example a https://snapshot.debian.org/archive/debian/<date> snapshot).',
      { details: { url, status: 404, package: pin.package, version: pin.version } },
    )
  }
  throw fetchFailed(pin, mirror, `${url} answered HTTP ${response.status} ${response.statusText}`)
}

function fetchFailed(pin: DebPin, mirror: string, what: string, cause?: unknown): UmlError {
  return new UmlError(
    'UML_KERNEL_FETCH_FAILED',
    `Could not download ${pin.package} ${pin.version} from the Debian mirror ${mirror}: ${what}. Check the network, ` +
      'or set VITEST_UML_DEBIAN_MIRROR to a reachable Debian mirror.',
    { details: { mirror, package: pin.package, version: pin.version }, cause },
  )
}

function mismatch(pin: DebPin, url: string, expected: string, got: string): UmlError {
  return new UmlError(
    'UML_KERNEL_HASH_MISMATCH',
    `${url} is not the pinned ${pin.package} ${pin.version}: expected ${expected}, got ${got}. Nothing was stored. ` +
      'If VITEST_UML_DEBIAN_MIRROR points at a mirror or proxy, check that it serves Debian unmodified.',
    { details: { url, expected, got } },
  )
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message
}
