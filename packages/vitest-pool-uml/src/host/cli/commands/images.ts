import { resolve } from 'node:path'
import { z } from 'zod'
import { createStreamProgress, formatBytes, getCacheDir, UmlError } from '../../core/index.js'
import { buildImage, importImage, LOCK_FILE_NAME, listImages, pullImage, removeImage } from '../../images/index.js'
import { parseCommandArgs } from '../parse-command-args.js'
import { formatTable } from '../print-table.js'

const oneName = (what: string) => z.object({ positionals: z.array(z.string()).length(1, `name one ${what}`) })
const noArgs = z.object({ positionals: z.array(z.string()).max(0) })
const pullSchema = z.object({
  update: z.boolean().default(false),
  lock: z.string().default(LOCK_FILE_NAME),
  positionals: z.array(z.string()).length(1, 'name one image reference, such as docker.io/library/alpine:3.21'),
})
const importSchema = z.object({
  name: z.string({ error: 'required: the name to import the image as' }),
  positionals: z.array(z.string()).length(1, 'name one root file system tarball'),
})

/** `vitest-uml images build|pull|import|list|rm`. */
export async function imagesCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args
  const cacheDir = getCacheDir()
  const progress = createStreamProgress()
  switch (action) {
    case 'build': {
      const [name] = parseCommandArgs('images build', rest, {}, oneName('recipe')).positionals
      const image = await buildImage(name!, { cacheDir, progress })
      process.stdout.write(`image ${image.name} ready in ${image.path}\n`)
      return 0
    }
    case 'pull': {
      const flags = parseCommandArgs(
        'images pull',
        rest,
        { update: { type: 'boolean' }, lock: { type: 'string' } },
        pullSchema,
      )
      const lockFile = resolve(flags.lock)
      const ref = flags.positionals[0]!
      const image = await pullImage(ref, { cacheDir, progress, lockFile, update: flags.update })
      process.stdout.write(`image ${image.ref} (${image.digest}) ready in ${image.path}, pinned in ${lockFile}\n`)
      return 0
    }
    case 'import': {
      const flags = parseCommandArgs('images import', rest, { name: { type: 'string' } }, importSchema)
      const image = await importImage(resolve(flags.positionals[0]!), { name: flags.name, cacheDir, progress })
      process.stdout.write(`image ${image.name} imported to ${image.path}\n`)
      return 0
    }
    case 'list': {
      parseCommandArgs('images list', rest, {}, noArgs)
      const images = await listImages({ cacheDir })
      const rows = images.map((image) => [
        image.name,
        image.source,
        image.built ? 'yes' : 'no',
        image.built ? formatBytes(image.sizeOnDisk) : '',
        image.description ?? '',
      ])
      process.stdout.write(`${formatTable(['IMAGE', 'SOURCE', 'BUILT', 'SIZE', 'DESCRIPTION'], rows)}\n`)
      return 0
    }
    case 'rm': {
      const [name] = parseCommandArgs('images rm', rest, {}, oneName('image')).positionals
      const removed = await removeImage(name!, { cacheDir })
      process.stdout.write(removed ? `removed ${name}\n` : `${name} was not in the cache\n`)
      return 0
    }
  }
  throw new UmlError(
    'UML_INVALID_OPTIONS',
    `Unknown action ${JSON.stringify(action ?? '')} for \`images\`; use build, pull, import, list or rm.`,
  )
}
