import { basename, join } from 'node:path'
import { type Progress, UmlError } from '../core/index.js'
import { downloadVerified } from './download-verified.js'
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
  await downloadVerified({
    url,
    file,
    sha256: pin.sha256,
    size: pin.size,
    maxBytes: pin.size,
    label: `Downloading ${pin.package} ${pin.version}`,
    progress: options.progress,
    errors: {
      unreachable: (what, cause, status) =>
        status === 404 ? noLongerThere(pin, url, options.mirror) : fetchFailed(pin, options.mirror, what, cause),
      mismatch: (expected, got) =>
        new UmlError(
          'UML_KERNEL_HASH_MISMATCH',
          `${url} is not the pinned ${pin.package} ${pin.version}: expected ${expected}, got ${got}. Nothing was stored. ` +
            'If VITEST_UML_DEBIAN_MIRROR points at a mirror or proxy, check that it serves Debian unmodified.',
          { details: { url, expected, got } },
        ),
    },
  })
  return file
}

function noLongerThere(pin: DebPin, url: string, mirror: string): UmlError {
  return new UmlError(
    'UML_KERNEL_FETCH_FAILED',
    `${pin.package} ${pin.version} is no longer on the mirror ${mirror} (HTTP 404 for ${url}). Debian deletes ` +
      'superseded versions: update the pins in kernels/manifest.json, or set VITEST_UML_DEBIAN_MIRROR to a ' +
      'mirror that still has it (for example a https://snapshot.debian.org/archive/debian/<date> snapshot).',
    { details: { url, status: 404, package: pin.package, version: pin.version } },
  )
}

function fetchFailed(pin: DebPin, mirror: string, what: string, cause?: unknown): UmlError {
  return new UmlError(
    'UML_KERNEL_FETCH_FAILED',
    `Could not download ${pin.package} ${pin.version} from the Debian mirror ${mirror}: ${what}. Check the network, ` +
      'or set VITEST_UML_DEBIAN_MIRROR to a reachable Debian mirror.',
    { details: { mirror, package: pin.package, version: pin.version }, cause },
  )
}
