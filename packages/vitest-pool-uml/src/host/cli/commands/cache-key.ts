import { readFile } from 'node:fs/promises'
import { arch } from 'node:os'
import { relative, resolve } from 'node:path'
import { z } from 'zod'
import { parseOsRelease } from '../../../shared/index.js'
import { GUEST_INIT_STUB, IMAGE_BUILDER_VERSION, LOCK_FILE_NAME, listRecipes } from '../../images/index.js'
import { GUEST_CONFIG, KERNEL_BUILDER_VERSION, MANIFEST } from '../../kernels/index.js'
import { computeCacheKey } from '../cache-key.js'
import { parseCommandArgs } from '../parse-command-args.js'

const cacheKeySchema = z.object({
  lock: z.string().default(LOCK_FILE_NAME),
  positionals: z.array(z.string()),
})

/** `vitest-uml cache-key [--lock FILE] [FILE...]`: prints the key to cache $XDG_CACHE_HOME/vitest-uml under in CI. */
export async function cacheKeyCommand(args: string[]): Promise<number> {
  const flags = parseCommandArgs('cache-key', args, { lock: { type: 'string' } }, cacheKeySchema)
  const files: Record<string, string> = {}
  for (const path of flags.positionals) files[relative(process.cwd(), resolve(path))] = await readFile(path, 'utf8')
  const recipes = Object.fromEntries((await listRecipes()).map(({ name, ...recipe }) => [name, recipe]))
  const osRelease = parseOsRelease(await readFile('/etc/os-release', 'utf8').catch(() => ''))
  const key = computeCacheKey({
    kernels: MANIFEST,
    recipes,
    imageBuilder: { version: IMAGE_BUILDER_VERSION, initStub: GUEST_INIT_STUB },
    kernelBuilder: { version: KERNEL_BUILDER_VERSION, config: GUEST_CONFIG },
    lockFile: await readFile(flags.lock, 'utf8').catch(() => ''),
    files,
    host: [osRelease.ID ?? 'linux', osRelease.VERSION_ID, arch()].filter(Boolean).join('-'),
  })
  process.stdout.write(`${key}\n`)
  return 0
}
