import { copyFile, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import {
  exists,
  findLiveBuilders,
  findMissingKernelBuildTools,
  missingPackages,
  reapedChildrenCpuMs,
  requireHostTool,
  requireWorkDir,
  UmlError,
  writeDirAtomically,
} from '../core/index.js'
import { BuildLog } from './build-log.js'
import { buildLogPath, builtKernelDir, findBuiltTwin, readBuiltKernel } from './built-kernels.js'
import { configRejected, findLostOptions, formatConfig, parseConfigFragment } from './config-fragment.js'
import {
  type InstalledKernel,
  KERNEL_BINARY_NAME,
  type KernelMetadata,
  readKernelMetadata,
  writeKernelMetadata,
} from './kernel-entry.js'
import { copyKernelLibs, HOST_LIB_DIRS, kernelLibNames } from './kernel-libs.js'
import { type FetchKernelOptions, type ResolvedFetchOptions, resolveFetchOptions } from './kernel-options.js'
import { describeSource, type KernelRecipe, type ResolvedRecipe, resolveRecipe } from './kernel-recipe.js'
import { ensureSourceTree, keepObjects, kernelObjectsDir } from './kernel-tree.js'
import { pointKernelAtSandboxLibs, readNeededLibs } from './patch-kernel.js'
import { probeKernel } from './probe-kernel.js'

/** How often a build waits on another process's build of the same kernel checks whether it ended. */
const BUILDER_POLL_MS = 2000

/** Room a build needs in the cache: the unpacked source (~1.8 GiB for 7.2) and its objects. */
const MIN_FREE_BYTES = 4 * 1024 ** 3

export interface BuildKernelOptions extends FetchKernelOptions {
  /** What a recipe's relative paths (config fragment, source tarball) are relative to; the working directory by default. */
  baseDir?: string
}

/**
 * Makes sure the kernel of a recipe is built and returns it: cached by the hash of its source and
 * config, so an unchanged recipe is built once. The build runs in a temporary cache entry that is
 * renamed into place only when complete; a failed build leaves its log (named in the error)
 * beside where the entry would be, and no entry.
 */
export async function buildKernel(
  name: string,
  recipe: KernelRecipe,
  options: BuildKernelOptions = {},
): Promise<InstalledKernel> {
  const resolved = resolveFetchOptions(options)
  const plan = await resolveRecipe(name, recipe, options.baseDir ?? process.cwd())
  const dir = builtKernelDir(resolved.cacheDir, name, plan.hash)
  const cached = await readBuiltKernel(dir)
  if (cached) return cached
  // Matrix cells of one kernel prepare it at once: one build serves them all.
  let building = buildsInProgress.get(dir)
  if (!building) {
    building = build(name, plan, dir, resolved).finally(() => buildsInProgress.delete(dir))
    buildsInProgress.set(dir, building)
  }
  return building
}

const buildsInProgress = new Map<string, Promise<InstalledKernel>>()

async function build(
  name: string,
  plan: ResolvedRecipe,
  dir: string,
  resolved: ResolvedFetchOptions,
): Promise<InstalledKernel> {
  // Another process building the same kernel (a second Vitest run, say): wait for it rather than compile twice.
  let builders = await findLiveBuilders(dir)
  if (builders.length > 0) {
    resolved.progress.start(`Waiting for process ${builders.join(', ')}, which is building kernel ${name}`)
    while (builders.length > 0) {
      await delay(BUILDER_POLL_MS)
      builders = await findLiveBuilders(dir)
    }
    resolved.progress.end()
    const built = await readBuiltKernel(dir)
    if (built) return built
  }

  // The same recipe built under another name is the same kernel: copied, not compiled again.
  const twin = await findBuiltTwin(resolved.cacheDir, name, plan.hash)
  if (twin) return copyTwin(twin, name, plan, dir, resolved)

  const missing = await findMissingKernelBuildTools()
  if (missing.length > 0) {
    throw new UmlError(
      'UML_HOST_TOOL_MISSING',
      `Building kernel ${name} needs ${missing.map((tool) => tool.what).join(', ')}, which this host lacks. ` +
        `Install them with: apt-get install ${missingPackages(missing)}`,
      { details: { tool: missing.map((tool) => tool.what).join(', '), package: missingPackages(missing) } },
    )
  }
  const tools = {
    dpkgDeb: await requireHostTool('dpkg-deb', 'to unpack Debian kernel sources'),
    tar: await requireHostTool('tar', 'to unpack kernel sources'),
    patchelf: await requireHostTool('patchelf', 'to point kernels at their own C library'),
    bwrap: await requireHostTool('bwrap', 'to run kernels in a sandbox'),
  }
  await mkdir(join(dir, '..'), { recursive: true })
  await requireWorkDir(join(dir, '..'), {
    minFreeBytes: MIN_FREE_BYTES,
    env: 'XDG_CACHE_HOME',
    why: `to build kernel ${name} in`,
  })
  const log = new BuildLog(buildLogPath(resolved.cacheDir, name, plan.hash), name)
  const started = { at: performance.now(), cpuMs: reapedChildrenCpuMs() }
  try {
    await writeDirAtomically(dir, (temp) => buildInto(temp, name, plan, tools, log, resolved))
    // How long a build takes on this machine (CI's first run included), kept with the kernel.
    const seconds = (ms: number) => `${(ms / 1000).toFixed(0)} s`
    log.write(
      `# ${seconds(performance.now() - started.at)} from start to end, ${seconds(reapedChildrenCpuMs() - started.cpuMs)} of CPU in the tools it ran`,
    )
  } finally {
    await log.close()
  }
  await rename(log.path, join(dir, 'build.log')).catch(() => {})
  const built = await readBuiltKernel(dir)
  if (!built) throw incompleteEntry(dir, name)
  return built
}

function incompleteEntry(dir: string, name: string): UmlError {
  return new UmlError(
    'UML_KERNEL_BUILD_FAILED',
    `The cache entry of kernel ${name} at ${dir} is incomplete. Delete that directory and build again.`,
    { details: { dir, name } },
  )
}

async function copyTwin(
  twin: InstalledKernel,
  name: string,
  plan: ResolvedRecipe,
  dir: string,
  { progress }: ResolvedFetchOptions,
): Promise<InstalledKernel> {
  progress.start(`Copying kernel ${twin.name} as ${name} (the same source and config)`)
  try {
    await writeDirAtomically(dir, async (temp) => {
      await cp(twin.dir, temp, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
      const metadata = await readKernelMetadata(temp)
      if (!metadata) throw incompleteEntry(twin.dir, twin.name)
      await writeKernelMetadata(temp, {
        ...metadata,
        name,
        built: { source: describeSource(plan.source), hash: plan.hash, builtAt: new Date().toISOString() },
      })
    })
  } finally {
    progress.end()
  }
  const built = await readBuiltKernel(dir)
  if (!built) throw incompleteEntry(dir, name)
  return built
}

interface BuildTools {
  dpkgDeb: string
  tar: string
  patchelf: string
  bwrap: string
}

async function buildInto(
  entry: string,
  name: string,
  plan: ResolvedRecipe,
  tools: BuildTools,
  log: BuildLog,
  options: ResolvedFetchOptions,
): Promise<void> {
  const { progress, cacheDir } = options
  log.write(`# kernel ${name} from ${describeSource(plan.source)}, recipe ${plan.hash}`)
  const src = await ensureSourceTree(plan.source, { ...options, ...tools, log, kernel: name })
  const scratch = join(entry, '.scratch')
  const out = join(scratch, 'out')
  const seed = kernelObjectsDir(cacheDir, plan.source)
  await mkdir(scratch)
  if (await exists(seed)) {
    // Starting from an earlier build's objects, make compiles only what this config changes.
    await log.run('cp', ['-a', seed, out], { cwd: scratch, what: 'copying the objects of an earlier build' })
  } else {
    await mkdir(out)
  }
  const make = (args: string[], what: string, onLine?: (line: string) => void) =>
    log.run('make', ['-C', src, `O=${out}`, 'ARCH=um', ...args], { cwd: out, what, ...(onLine && { onLine }) })

  await writeFile(join(out, '.config'), formatConfig(plan.config))
  await make(['olddefconfig'], 'make olddefconfig')
  const finalConfig = await readFile(join(out, '.config'), 'utf8')
  const lost = findLostOptions(parseConfigFragment(finalConfig, '.config'), plan.fragment)
  if (lost.length > 0) {
    log.write(`# the final .config:\n${finalConfig}`)
    throw configRejected(name, lost, log.path)
  }

  const jobs = availableParallelism()
  let compiled = 0
  progress.start(`Building kernel ${name} (make -j${jobs})`, undefined, {
    one: 'file compiled',
    many: 'files compiled',
  })
  try {
    await make([`-j${jobs}`, 'linux', ...(plan.modules ? ['modules'] : [])], 'make (see the errors above)', (line) => {
      if (/^\s+CC\b/.test(line)) progress.update(++compiled)
    })
  } catch (error) {
    progress.end('failed')
    throw error
  }
  progress.end(`${compiled} files compiled`)

  const release = (await readFile(join(out, 'include/config/kernel.release'), 'utf8')).trim()
  if (plan.modules) {
    const installed = join(scratch, 'modules')
    await make([`INSTALL_MOD_PATH=${installed}`, 'modules_install'], 'make modules_install')
    await mkdir(join(entry, 'modules'))
    await rename(join(installed, 'lib/modules', release), join(entry, 'modules', release))
  }
  const binary = join(entry, KERNEL_BINARY_NAME)
  await copyFile(join(out, 'linux'), binary)
  await writeFile(join(entry, 'config'), finalConfig)
  await keepObjects(cacheDir, plan.source, out)
  await rm(scratch, { recursive: true, force: true })

  // Built against the host's C library, like Debian's older kernels: it runs on a copy of it.
  const libDir = join(entry, 'lib')
  await mkdir(libDir)
  await copyKernelLibs(kernelLibNames(await readNeededLibs(tools.patchelf, binary)), HOST_LIB_DIRS, libDir, name)
  await pointKernelAtSandboxLibs(tools.patchelf, binary)
  const { supportsSeccomp, supportsTimeTravel } = await probeKernel(tools.bwrap, entry, name)
  const metadata: KernelMetadata = {
    name,
    release,
    suite: plan.source.kind === 'debian' ? plan.source.pin.suite : 'source',
    packageVersion: plan.source.kind === 'debian' ? plan.source.pin.deb.version : plan.source.sha256.slice(0, 12),
    supportsSeccomp,
    supportsTimeTravel,
    libs: 'host',
    built: { source: describeSource(plan.source), hash: plan.hash, builtAt: new Date().toISOString() },
  }
  await writeKernelMetadata(entry, metadata)
  log.write(
    `# built kernel ${name} ${release}${supportsSeccomp ? ', seccomp' : ''}${supportsTimeTravel ? ', time travel' : ''}`,
  )
}
