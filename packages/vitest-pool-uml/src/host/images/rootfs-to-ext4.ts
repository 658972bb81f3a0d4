import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requireHostTool } from '../core/index.js'
import type { RootfsIndex } from './rootfs-index.js'
import { type ImageFailureCode, runToolSteps } from './run-tool.js'

/** A guest image's size. Sparse: only the blocks the root file system uses take space on disk. */
export const IMAGE_BYTES = 4 * 1024 ** 3
/** IMAGE_BYTES for messages. */
export const IMAGE_SIZE_TEXT = `${IMAGE_BYTES / 1024 ** 3} GiB`
const IMAGE_LABEL = 'vitest-uml'

export interface TarballToExt4Options {
  tarball: string
  index: RootfsIndex
  /** Scratch space: the index for the guest files, and the empty directory the tree's tmpfs is mounted on. */
  workDir: string
  imagePath: string
  /** From rootfsOwnerPrefix. */
  ownerPrefix: string[]
  failureCode: ImageFailureCode
}

/** addGuestFiles as a program (see add-guest-files-main.ts). */
const ADD_GUEST_FILES = fileURLToPath(new URL('./add-guest-files-main.js', import.meta.url))

/**
 * Unpacks the root file system, adds the guest files and writes it into an ext4 image with
 * `mke2fs -d`, without mounting anything on the host. GNU tar unpacks rather than tar-fs because
 * it restores what a root file system needs: numeric owners, setuid/setgid bits after chown, hard
 * links. Device nodes are skipped (a user namespace cannot create them, and the guest kernel mounts
 * devtmpfs on /dev anyway), so every build path yields the same image.
 *
 * The steps share a mount namespace of their own, where the tree is unpacked into a private tmpfs:
 * it never touches the disk (where unpacking and removing it cost 15 times the system time) and
 * vanishes with the namespace, also when the build is killed. Each step fails with its own message.
 */
export async function tarballToExt4(options: TarballToExt4Options): Promise<void> {
  const { ownerPrefix, failureCode, imagePath } = options
  const why = 'to turn root file systems into ext4 images'
  const [tar, mke2fs, unshare, mount] = await Promise.all(
    (['tar', 'mke2fs', 'unshare', 'mount'] as const).map((tool) => requireHostTool(tool, why)),
  )
  const staging = join(options.workDir, 'staging')
  await mkdir(staging)
  const indexFile = join(options.workDir, 'index.json')
  await writeFile(indexFile, JSON.stringify([...options.index]))
  const kib = `${IMAGE_BYTES / 1024}k`
  await runToolSteps(
    [...ownerPrefix, unshare!, '--mount', '--propagation', 'private', '--'],
    [
      {
        command: [mount!, '-t', 'tmpfs', '-o', `size=${kib},mode=0755`, 'vitest-uml-staging', staging],
        what: 'Cannot mount a tmpfs to unpack the root file system into',
        fix: 'Check that this user may mount a tmpfs in a mount namespace of its own (`unshare --mount --map-root-user mount -t tmpfs x /mnt`).',
      },
      {
        command: [
          tar!,
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
        ],
        what: 'tar could not unpack the root file system',
        fix: 'Check that the tarball is intact and that its owners fit in 65536 user and group ids.',
      },
      {
        command: [process.execPath, ADD_GUEST_FILES, staging, indexFile],
        what: "Cannot add vitest-uml's init to the root file system",
        fix: 'Check where its /sbin, /etc, /dev, /proc, /sys and /tmp lead.',
      },
      {
        command: [
          mke2fs!,
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
          imagePath,
          kib,
        ],
        what: 'mke2fs could not write the ext4 image',
        fix: `A root file system must fit in ${IMAGE_SIZE_TEXT}; check also free space in ${dirname(dirname(imagePath))}.`,
      },
    ],
    {
      failureCode,
      what: 'Cannot enter a mount namespace to unpack the root file system in',
      fix: 'Check that this user may create mount namespaces (`unshare --mount --map-root-user true`).',
    },
  )
}
