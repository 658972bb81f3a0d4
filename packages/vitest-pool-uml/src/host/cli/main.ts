import { getCacheDir, isUmlError, removeAbandonedEntries } from '../core/index.js'
import { removeCacheTree } from '../images/index.js'
import { cacheKeyCommand } from './commands/cache-key.js'
import { doctorCommand } from './commands/doctor.js'
import { imagesCommand } from './commands/images.js'
import { kernelsCommand } from './commands/kernels.js'
import { runCommand } from './commands/run.js'
import { shellCommand } from './commands/shell.js'
import { usage } from './usage.js'

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: runCommand,
  shell: shellCommand,
  kernels: kernelsCommand,
  images: imagesCommand,
  doctor: doctorCommand,
  'cache-key': cacheKeyCommand,
}

/** Runs the CLI and returns its exit status; errors are printed, coded errors with their code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${await usage()}\n`)
    return command === undefined ? 2 : 0
  }
  const handler = COMMANDS[command]
  if (!handler) {
    process.stderr.write(`vitest-uml: unknown command ${JSON.stringify(command)}.\n\n${await usage()}\n`)
    return 2
  }
  try {
    await removeAbandonedEntries(getCacheDir(), { remove: removeCacheTree })
    return await handler(args)
  } catch (error) {
    if (isUmlError(error)) {
      process.stderr.write(`vitest-uml: ${error.message}\n[${error.code}]\n`)
      return error.code === 'UML_INVALID_OPTIONS' ? 2 : 1
    }
    throw error
  }
}
