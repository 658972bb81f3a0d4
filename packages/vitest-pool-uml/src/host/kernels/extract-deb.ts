import { UmlError } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'

/** Unpacks a .deb's files (not its maintainer scripts) into `dir`. */
export async function extractDeb(dpkgDeb: string, deb: string, dir: string): Promise<void> {
  const { execa } = await loadExeca()
  const result = await execa(dpkgDeb, ['-x', deb, dir], { reject: false, all: true })
  if (result.failed) {
    throw new UmlError(
      'UML_KERNEL_FETCH_FAILED',
      `dpkg-deb could not unpack ${deb}, although its hash matched. Check that the cache dir has free space, then fetch again.`,
      { details: { deb, dir, output: result.all }, evidence: result.all?.trim() || result.message },
    )
  }
}
