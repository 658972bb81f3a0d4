import { join } from 'node:path'
import { exists, type Progress, requireHostTool, silentProgress, UmlError, writeDirAtomically } from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'
import { Guest, type GuestOptions } from '../guest/index.js'
import { IMAGE_FILE, imageEntryDir } from './cache-layout.js'
import { derivedImageHash } from './image-hash.js'
import { type InstalledImage, readInstalledImage, writeImageMetadata } from './installed-image.js'

export interface DeriveImageOptions {
  /** The derived image's name. */
  name: string
  base: InstalledImage
  /** Shell script run once as root in a guest booted from a copy of the base. */
  setup: string
  /** The kernel to boot the setup guest with. */
  kernel: GuestOptions['kernel']
  /** The setup guest's network (none by default): an installer that downloads needs one. */
  network?: GuestOptions['network']
  cacheDir: string
  progress?: Progress
}

const OUTPUT_TAIL_LINES = 30

/**
 * Makes an image by running a setup script as root in a guest that writes straight to a private,
 * sparse copy of the base image, then checking the file system. Cached by the base image and the
 * script, so every guest reuses it and the script runs again only when either changes.
 */
export async function deriveImage(options: DeriveImageOptions): Promise<InstalledImage> {
  const { name, base, setup, cacheDir } = options
  const progress = options.progress ?? silentProgress
  const hash = derivedImageHash(base.hash, setup)
  const entry = imageEntryDir(cacheDir, name, hash)
  if (await exists(entry)) return (await readInstalledImage(entry)).image
  const { execa } = await loadExeca()
  const e2fsck = await requireHostTool('e2fsck', 'to check a derived image')
  await writeDirAtomically(entry, async (tempDir) => {
    progress.start(`derive ${name} from ${base.name} (setup script)`)
    const imagePath = join(tempDir, IMAGE_FILE)
    await execa('cp', ['--sparse=always', base.path, imagePath])
    const guest = await Guest.boot({
      kernel: options.kernel,
      imagePath,
      imageWritable: true,
      cacheDir,
      network: options.network,
    })
    try {
      const result = await guest.exec(['sh', '-ec', setup])
      if (result.exitCode !== 0) {
        const output = `${result.stdout}${result.stderr}`.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n')
        throw new UmlError(
          'UML_IMAGE_BUILD_FAILED',
          `The setup script for image ${name} failed in the guest (exit status ${result.exitCode ?? result.signal}). Fix the script.`,
          { details: { name, exitCode: result.exitCode, output }, evidence: `Its output ends:\n${output}` },
        )
      }
      // Powering off through sysrq does not unmount: flush, and leave the file system clean.
      await guest.exec(['sh', '-c', 'sync; mount -o remount,ro / ; sync'])
    } finally {
      await guest.dispose()
    }
    // Exit status 1 means e2fsck fixed something harmless; anything above is damage.
    const check = await execa(e2fsck, ['-fp', imagePath], { reject: false })
    if ((check.exitCode ?? 8) > 1) {
      throw new UmlError(
        'UML_IMAGE_BUILD_FAILED',
        `The image derived as ${name} did not pass e2fsck (exit status ${check.exitCode}).`,
        { details: { name, exitCode: check.exitCode }, evidence: `${check.stdout}${check.stderr}` },
      )
    }
    await writeImageMetadata(tempDir, {
      name,
      hash,
      source: 'derived',
      osRelease: base.osRelease,
      createdAt: new Date().toISOString(),
    })
    progress.end()
  })
  return (await readInstalledImage(entry)).image
}
