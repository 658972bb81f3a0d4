import { open, stat } from 'node:fs/promises'
import { hostMemoryMiB, UmlError } from '../core/index.js'
import { GUEST_DEFAULTS, type ResolvedGuestOptions } from './guest-options.js'

/** ext4's superblock starts 1024 bytes in; its magic number sits 0x38 bytes into it. */
const SUPERBLOCK_OFFSET = 1024
const EXT_MAGIC = 0xef53

/**
 * Checks what a guest is about to be given, so a missing share or a damaged image is reported as
 * such, before a kernel boots into a confusing panic.
 */
export async function checkGuestInputs(options: ResolvedGuestOptions): Promise<void> {
  checkTimeTravel(options.kernel, options.time)
  const hostMiB = hostMemoryMiB()
  if (options.memoryMiB > hostMiB) {
    throw new UmlError(
      'UML_MEMORY_UNAVAILABLE',
      `The guest asks for ${options.memoryMiB} MiB of memory, more than this host has (${hostMiB} MiB in all). Give it less: \`memory\` in the uml() options, or --memory for the CLI (${GUEST_DEFAULTS.memoryMiB} is the default).`,
      { details: { memoryMiB: options.memoryMiB, hostMiB } },
    )
  }
  for (const share of options.shares) {
    const info = await stat(share.hostPath).catch(() => undefined)
    if (!info?.isDirectory()) {
      throw new UmlError(
        'UML_INVALID_OPTIONS',
        `The share ${share.hostPath} is not a directory on this host. Create it, or remove it from the shares.`,
        {
          details: { share: share.hostPath },
        },
      )
    }
  }
  await checkImage(options.imagePath)
}

/** `time: 'virtual'` needs a kernel built with time travel: a coded error naming the fix otherwise. */
export function checkTimeTravel(kernel: ResolvedGuestOptions['kernel'], time: ResolvedGuestOptions['time']): void {
  if (time !== 'virtual' || kernel.supportsTimeTravel) return
  throw new UmlError(
    'UML_KERNEL_NO_TIME_TRAVEL',
    `Kernel ${kernel.name} was not built with time travel (CONFIG_UML_TIME_TRAVEL_SUPPORT), which \`time: 'virtual'\` needs; none of Debian's kernels is. Use a kernel built by vitest-uml (\`kernel: 'custom-7.2'\` in the uml() options, \`--kernel custom-7.2\` for the CLI), or leave time real.`,
    { details: { kernel: kernel.name } },
  )
}

async function checkImage(path: string): Promise<void> {
  const corrupt = (why: string) =>
    new UmlError(
      'UML_IMAGE_CORRUPT',
      `The guest image ${path} is damaged: ${why}. Remove it and build or import it again (vitest-uml images rm <name>, then images build <name>).`,
      {
        details: { imagePath: path },
      },
    )
  const file = await open(path, 'r').catch((error: unknown) => {
    throw new UmlError(
      'UML_IMAGE_NOT_BUILT',
      `The guest image ${path} cannot be opened: ${(error as Error).message}. Build it with vitest-uml images build <name>.`,
      { cause: error, details: { imagePath: path } },
    )
  })
  try {
    const superblock = Buffer.alloc(64)
    const { bytesRead } = await file.read(superblock, 0, superblock.length, SUPERBLOCK_OFFSET)
    if (bytesRead < superblock.length || superblock.readUInt16LE(0x38) !== EXT_MAGIC)
      throw corrupt('it has no ext4 superblock')
    const blockSize = 1024 << superblock.readUInt32LE(0x18)
    const expectedBytes = superblock.readUInt32LE(0x04) * blockSize
    const { size } = await file.stat()
    if (size < expectedBytes) throw corrupt(`it is ${size} bytes long, but its file system needs ${expectedBytes}`)
  } finally {
    await file.close()
  }
}
