import { createHash } from 'node:crypto'
import { copyFile, mkdir, readFile, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import {
  exists,
  LOADER_NAME,
  requireHostTool,
  SANDBOX_NODE_LIB_DIR,
  UmlError,
  writeDirAtomically,
} from '../core/index.js'
import { loadExeca } from '../core/load-execa.js'
import { agentDistDir } from './agent-dist-dir.js'

/** The library (src/guest/node-shim.c) the guest's Node loads ahead of its C library. */
export const NODE_SHIM_LIBRARY = 'node-shim.so'

export interface NodeRuntimeOptions {
  cacheDir: string
  /** The Node binary to run in guests; the host's own by default. */
  nodePath?: string
}

/**
 * A copy of the host's Node binary that runs in any guest userland: its interpreter and library
 * path point at copies of the host's own C libraries under SANDBOX_NODE_LIB_DIR, so it needs
 * nothing from the guest's libc (a bullseye or musl userland runs it just the same). It also
 * loads NODE_SHIM_LIBRARY first, which spares it the traps into the guest kernel that cost most
 * in UML (see that file). Cached per Node binary and shim. Returns the directory holding
 * `bin/node` and `lib/`.
 */
export async function prepareNodeRuntime(options: NodeRuntimeOptions): Promise<string> {
  const nodePath = options.nodePath ?? process.execPath
  const info = await stat(nodePath)
  const shim = join(agentDistDir(), NODE_SHIM_LIBRARY)
  const shimBytes = await readFile(shim).catch((error: unknown) => {
    throw new UmlError(
      'UML_NODE_RUNTIME_FAILED',
      `${shim} is missing: vitest-uml's package was not built. Run its build (it needs gcc and libc6-dev).`,
      { cause: error, details: { binary: shim } },
    )
  })
  const identity = createHash('sha256')
    .update(`${nodePath}\0${info.size}\0${info.mtimeMs}\0`)
    .update(shimBytes)
    .digest('hex')
    .slice(0, 12)
  const dir = join(options.cacheDir, 'node', `${process.version}-${identity}`)
  if (await exists(join(dir, 'bin', 'node'))) return dir
  const patchelf = await requireHostTool('patchelf', 'to let the host Node binary run inside guests')
  await writeDirAtomically(dir, async (temp) => {
    await mkdir(join(temp, 'bin'))
    await mkdir(join(temp, 'lib'))
    const libraries = await listSharedLibraries(nodePath)
    for (const library of libraries) await copyFile(library.path, join(temp, 'lib', library.name))
    await copyFile(shim, join(temp, 'lib', NODE_SHIM_LIBRARY))
    const binary = join(temp, 'bin', 'node')
    await copyFile(nodePath, binary)
    const paths = [
      '--set-interpreter',
      `${SANDBOX_NODE_LIB_DIR}/${LOADER_NAME}`,
      '--force-rpath',
      '--set-rpath',
      SANDBOX_NODE_LIB_DIR,
    ]
    const { execa } = await loadExeca()
    try {
      await execa(patchelf, [...paths, binary])
      // Put first among the needed libraries, so its functions take the C library's place. A
      // second run: patchelf 0.14 given both at once writes the library's name as the rpath.
      await execa(patchelf, ['--add-needed', NODE_SHIM_LIBRARY, binary])
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
  const { execa } = await loadExeca()
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
