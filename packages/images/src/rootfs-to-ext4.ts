import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { requireHostTool, UmlError } from '@vitest-uml/core'
import { execa } from 'execa'
import { addGuestFiles } from './guest-files.js'
import { withPrefix } from './id-mapping.js'
import type { RootfsIndex } from './rootfs-index.js'
import { type ImageFailureCode, runTool } from './run-tool.js'

/** Sparse: only the blocks the root file system uses take space on disk. */
const IMAGE_SIZE = '4G'
const IMAGE_LABEL = 'vitest-uml'

export interface TarballToExt4Options {
  tarball: string
  index: RootfsIndex
  /** Scratch space; the unpacked tree goes here and is removed before returning. */
  workDir: string
  imagePath: string
  /** From rootfsOwnerPrefix. */
  ownerPrefix: string[]
  failureCode: ImageFailureCode
}

/**
 * Unpacks the root file system, adds the guest files and writes it into an ext4 image with
 * `mke2fs -d`, without mounting anything. GNU tar unpacks rather than tar-fs because it restores
 * what a root file system needs: numeric owners, setuid/setgid bits after chown, hard links.
 * Device nodes are skipped (a user namespace cannot create them, and the guest kernel mounts
 * devtmpfs on /dev anyway), so every build path yields the same image.
 */
export async function tarballToExt4(options: TarballToExt4Options): Promise<void> {
  const { ownerPrefix, failureCode } = options
  const tar = await requireHostTool('tar', 'to unpack root file systems')
  const mke2fs = await requireHostTool('mke2fs', 'to make ext4 guest images')
  const staging = join(options.workDir, 'staging')
  await mkdir(staging)
  try {
    await runTool(
      ...withPrefix(ownerPrefix, tar, [
        '--extract',
        `--file=${options.tarball}`,
        `--directory=${staging}`,
        '--numeric-owner',
        '--same-owner',
        '--same-permissions',
        '--anchored',
        '--exclude=./dev/?*',
        '--exclude=dev/?*',
        '--warning=no-unknown-keyword',
      ]),
      {
        failureCode,
        what: 'tar could not unpack the root file system',
        fix: 'Check that the tarball is intact and that its owners fit in 65536 user and group ids.',
      },
    )
    try {
      await addGuestFiles(staging, options.index)
    } catch (cause) {
      throw new UmlError(
        failureCode,
        `Cannot add vitest-uml's init to the root file system: ${(cause as Error).message}.`,
        {
          cause,
        },
      )
    }
    await runTool(
      ...withPrefix(ownerPrefix, mke2fs, [
        '-q',
        '-t',
        'ext4',
        '-O',
        '^has_journal',
        '-E',
        'root_owner=0:0',
        '-L',
        IMAGE_LABEL,
        '-d',
        staging,
        options.imagePath,
        IMAGE_SIZE,
      ]),
      {
        failureCode,
        what: 'mke2fs could not write the ext4 image',
        fix: `Check free space in ${options.workDir}; a root file system must fit in ${IMAGE_SIZE}.`,
      },
    )
  } finally {
    // Files owned by subordinate ids can only be removed from inside the namespace.
    await execa(...withPrefix(ownerPrefix, 'rm', ['-rf', '--one-file-system', '--', staging]), {
      reject: false,
      stdin: 'ignore',
    })
  }
}
