import { basename, join } from 'node:path'
import { exists, fileSha256, type Progress, UmlError } from '../core/index.js'
import { downloadDeb } from './download-deb.js'
import { downloadVerified } from './download-verified.js'
import { extractDeb } from './extract-deb.js'
import type { KernelSource } from './kernel-recipe.js'

/** A kernel source tarball is a few hundred MiB; this bounds a download whose size is not pinned. */
const MAX_TARBALL_BYTES = 2 * 1024 ** 3

export interface SourceOptions {
  mirror: string
  progress: Progress
  dpkgDeb: string
  /** Scratch space inside the cache entry being built. */
  scratch: string
}

/**
 * The verified source tarball of a recipe: a pinned Debian linux-source package downloaded and
 * unpacked, a tarball downloaded from its URL, or the user's own file, each checked against
 * its SHA-256 before anything is built from it.
 */
export async function obtainSourceTarball(source: KernelSource, options: SourceOptions): Promise<string> {
  const { scratch, progress } = options
  if (source.kind === 'debian') {
    const deb = await downloadDeb(source.pin.deb, { mirror: options.mirror, dir: scratch, progress })
    const tree = join(scratch, 'deb')
    await extractDeb(options.dpkgDeb, deb, tree)
    return join(tree, source.pin.tarball)
  }
  if ('url' in source) {
    const file = join(scratch, basename(new URL(source.url).pathname) || 'linux.tar')
    const mismatch = (expected: string, got: string) =>
      new UmlError(
        'UML_KERNEL_HASH_MISMATCH',
        `${source.url} is not the kernel source the recipe pins: expected ${expected}, got ${got}. Nothing was built. ` +
          'Check the URL, or update sha256 in the recipe if the file is the one you meant.',
        { details: { url: source.url, expected, got } },
      )
    await downloadVerified({
      url: source.url,
      file,
      sha256: source.sha256,
      maxBytes: MAX_TARBALL_BYTES,
      label: `Downloading ${source.url}`,
      progress,
      errors: {
        unreachable: (what, cause) =>
          new UmlError(
            'UML_KERNEL_FETCH_FAILED',
            `Could not download the kernel source: ${what}. Check the URL and the network, or download it yourself and give { path, sha256 }.`,
            { details: { url: source.url }, cause },
          ),
        mismatch,
      },
    })
    return file
  }
  if (!(await exists(source.path))) {
    throw new UmlError(
      'UML_INVALID_OPTIONS',
      `The kernel source tarball ${source.path} does not exist. Give the path of a Linux source tarball (.tar.xz, .tar.gz).`,
      { details: { path: source.path } },
    )
  }
  progress.start(`Checking ${source.path}`)
  const sha256 = await fileSha256(source.path, (bytes) => progress.update(bytes))
  progress.end(sha256 === source.sha256 ? 'verified' : 'failed')
  if (sha256 !== source.sha256) {
    throw new UmlError(
      'UML_KERNEL_HASH_MISMATCH',
      `${source.path} is not the kernel source the recipe pins: expected sha256 ${source.sha256}, got sha256 ${sha256}. ` +
        'Nothing was built. Update sha256 in the recipe if the file is the one you meant.',
      { details: { path: source.path, expected: source.sha256, got: sha256 } },
    )
  }
  return source.path
}
