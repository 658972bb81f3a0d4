import { createHash } from 'node:crypto'
import { copyFile, mkdir, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { execa } from 'execa'
import {
  exists,
  LOADER_NAME,
  requireHostTool,
  SANDBOX_NODE_LIB_DIR,
  UmlError,
  writeDirAtomically,
} from '../core/index.js'

export interface NodeRuntimeOptions {
  cacheDir: string
  /** The Node binary to run in guests; the host's own by default. */
  nodePath?: string
}

/**
 * A copy of the host's Node binary that runs in any guest userland: its interpreter and library
 * path point at copies of the host's own C libraries under SANDBOX_NODE_LIB_DIR, so it needs
 * nothing from the guest's libc (a bullseye or musl userland runs it just the same). Cached per
 * Node binary. Returns the directory holding `bin/node` and `lib/`.
 */
export async function prepareNodeRuntime(options: NodeRuntimeOptions): Promise<string> {
  const nodePath = options.nodePath ?? process.execPath
  const info = await stat(nodePath)
  const identity = createHash('sha256').update(`${nodePath}\0${info.size}\0${info.mtimeMs}`).digest('hex').slice(0, 12)
  const dir = join(options.cacheDir, 'node', `${process.version}-${identity}`)
  if (await exists(join(dir, 'bin', 'node'))) return dir
  const patchelf = await requireHostTool('patchelf', 'to let the host Node binary run inside guests')
  await writeDirAtomically(dir, async (temp) => {
    await mkdir(join(temp, 'bin'))
    await mkdir(join(temp, 'lib'))
    const libraries = await listSharedLibraries(nodePath)
    for (const library of libraries) await copyFile(library.path, join(temp, 'lib', library.name))
    const binary = join(temp, 'bin', 'node')
    await copyFile(nodePath, binary)
    const args = [
      '--set-interpreter',
      `${SANDBOX_NODE_LIB_DIR}/${LOADER_NAME}`,
      '--force-rpath',
      '--set-rpath',
      SANDBOX_NODE_LIB_DIR,
    ]
    try {
      await execa(patchelf, [...args, binary])
    } catch (error) {
      throw new UmlError(
        'UML_NODE_RUNTIME_FAILED',
        `Could not prepare ${nodePath} to run inside guests: patchelf failed. Is it a dynamically linked x86_64 Node binary?`,
        { cause: error, details: { binary: nodePath } },
      )
    }
  })
  return dir
}

interface SharedLibrary {
  name: string
  path: string
}

/** The loader and libraries a binary needs on this host, as `ldd` resolves them. */
async function listSharedLibraries(binary: string): Promise<SharedLibrary[]> {
  const { stdout } = await execa('ldd', [binary]).catch((error: unknown) => {
    throw new UmlError(
      'UML_NODE_RUNTIME_FAILED',
      `Could not list the libraries of ${binary} with ldd. Install libc-bin, or point vitest-uml at a dynamically linked Node binary.`,
      { cause: error, details: { binary } },
    )
  })
  const libraries: SharedLibrary[] = []
  for (const line of stdout.split('\n')) {
    const linked = /^\s*(\S+) => (\/\S+)/.exec(line)
    if (linked) libraries.push({ name: linked[1]!, path: linked[2]! })
    const loader = /^\s*(\/\S+ld-linux\S*)\s/.exec(line)
    if (loader) libraries.push({ name: LOADER_NAME, path: loader[1]! })
  }
  if (!libraries.some((library) => library.name === LOADER_NAME)) {
    throw new UmlError(
      'UML_NODE_RUNTIME_FAILED',
      `${binary} names no x86_64 dynamic loader (${LOADER_NAME}); vitest-uml needs a dynamically linked x86_64 Node binary.`,
      { details: { binary, ldd: stdout } },
    )
  }
  return libraries.map((library) => ({ name: basename(library.name), path: library.path }))
}
