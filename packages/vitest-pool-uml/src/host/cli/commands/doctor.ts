import { z } from 'zod'
import {
  buildSandboxArgs,
  checkWorkDir,
  findHostTool,
  findMissingKernelBuildTools,
  getCacheDir,
  HOST_TOOLS,
  isUmlError,
  missingPackages,
  OPTIONAL_HOST_TOOLS,
  SANDBOX_KERNEL_DIR,
} from '../../core/index.js'
import { loadExeca } from '../../core/load-execa.js'
import { probeNetworkHelper } from '../../guest/index.js'
import { DEFAULT_KERNEL, getInstalledKernel } from '../../kernels/index.js'
import { parseCommandArgs } from '../parse-command-args.js'
import { readUserNamespaceSettings, userNamespaceProblem } from '../user-namespaces.js'

interface Check {
  name: string
  ok: boolean
  detail: string
  /** What to do when it fails. */
  fix?: string
  /** Only some features need it: a failure is a warning, not a problem. */
  optional?: boolean
}

/** Free space a first run needs: four kernels (~0.7 GiB) and a few images (~0.4 GiB each). */
const MIN_FREE_BYTES = 3 * 1024 ** 3

/** `vitest-uml doctor`: checks this host can run guests and prints a fix for each problem. */
export async function doctorCommand(args: string[]): Promise<number> {
  parseCommandArgs('doctor', args, {}, z.object({ positionals: z.array(z.string()).max(0) }))
  const checks = [
    ...(await checkTools()),
    await checkUserNamespaces(),
    await checkSandbox(),
    await checkExecutableDir('cache dir', getCacheDir(), 'XDG_CACHE_HOME'),
    await checkKernel(),
    await checkNetwork(),
    await checkKernelBuildTools(),
  ]
  for (const check of checks) {
    process.stdout.write(`${check.ok ? 'ok  ' : check.optional ? 'warn' : 'FAIL'}  ${check.name}: ${check.detail}\n`)
    if (!check.ok && check.fix) process.stdout.write(`      fix: ${check.fix}\n`)
  }
  const failed = checks.filter((check) => !check.ok && !check.optional).length
  process.stdout.write(failed === 0 ? 'This host can run vitest-uml guests.\n' : `${failed} problem(s) found.\n`)
  return failed === 0 ? 0 : 1
}

async function checkTools(): Promise<Check[]> {
  const tools = Object.keys(HOST_TOOLS) as (keyof typeof HOST_TOOLS)[]
  const needed = tools.filter((tool) => tool !== 'newuidmap' || process.getuid?.() !== 0)
  return Promise.all(
    needed.map(async (tool) => {
      const path = await findHostTool(tool)
      const lost = OPTIONAL_HOST_TOOLS[tool]
      return {
        name: tool,
        ok: path !== undefined,
        detail: path ?? (lost ? `not found: ${lost}` : 'not found'),
        fix: `apt-get install ${HOST_TOOLS[tool]}`,
        optional: lost !== undefined,
      }
    }),
  )
}

async function checkUserNamespaces(): Promise<Check> {
  const name = 'user namespaces'
  const isRoot = process.getuid?.() === 0
  const problem = userNamespaceProblem(await readUserNamespaceSettings(), isRoot)
  if (problem) return { name, ok: false, ...problem }
  return { name, ok: true, detail: isRoot ? 'not needed as root' : 'unprivileged ones are allowed' }
}

async function checkSandbox(): Promise<Check> {
  const name = 'sandbox (bubblewrap)'
  const bwrap = await findHostTool('bwrap')
  if (!bwrap) return { name, ok: false, detail: 'bwrap not found', fix: 'apt-get install bubblewrap' }
  const mounts = ['/usr', '/lib', '/lib64', '/bin'].map((dir) => ({ source: dir, target: dir }))
  const { execa } = await loadExeca()
  const result = await execa(bwrap, [...buildSandboxArgs({ mounts }), '--', '/bin/true'], { reject: false })
  if (result.exitCode === 0) return { name, ok: true, detail: 'new namespaces work for this user' }
  return {
    name,
    ok: false,
    detail: result.stderr.trim() || `exit status ${result.exitCode}`,
    fix: 'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0)',
  }
}

/** UML's kernel runs from the cache and images are built there: it needs exec and room. */
async function checkExecutableDir(label: string, dir: string, env: string): Promise<Check> {
  const problem = await checkWorkDir(dir, MIN_FREE_BYTES, env)
  return { name: `${label} ${dir}`, ok: !problem, detail: problem?.detail ?? 'exec allowed, enough room', ...problem }
}

async function checkKernel(): Promise<Check> {
  const name = `kernel ${DEFAULT_KERNEL}`
  const kernel = await getInstalledKernel(DEFAULT_KERNEL)
  if (!kernel) return { name, ok: false, detail: 'not fetched yet', fix: `vitest-uml kernels fetch ${DEFAULT_KERNEL}` }
  const bwrap = await findHostTool('bwrap')
  if (!bwrap) return { name, ok: false, detail: 'cannot start without bwrap', fix: 'apt-get install bubblewrap' }
  const sandbox = buildSandboxArgs({ mounts: [{ source: kernel.dir, target: SANDBOX_KERNEL_DIR }] })
  const { execa } = await loadExeca()
  const result = await execa(bwrap, [...sandbox, '--', `${SANDBOX_KERNEL_DIR}/linux`, '--version'], { reject: false })
  if (result.exitCode === 0)
    return { name, ok: true, detail: `starts (${result.stdout.trim()}${kernel.supportsSeccomp ? ', seccomp' : ''})` }
  return {
    name,
    ok: false,
    detail: (result.stderr || result.stdout).trim(),
    fix: `rm -rf ${kernel.dir} && vitest-uml kernels fetch ${DEFAULT_KERNEL}`,
  }
}

/** The network option's helper (relay and slirp4netns in their sandbox): only guests with a network need it. */
async function checkNetwork(): Promise<Check> {
  const name = 'network helper (for the network option)'
  try {
    await probeNetworkHelper(getCacheDir())
    return { name, ok: true, detail: 'slirp4netns and the relay start' }
  } catch (error) {
    const { problem, install }: { problem: string; install?: string } = isUmlError(error, 'UML_NETWORK_UNAVAILABLE')
      ? error.details
      : { problem: (error as Error).message }
    // Only missing tools have a fix to print; otherwise the helper's own words are the detail.
    return { name, ok: false, detail: problem, ...(install && { fix: `${install} (or leave the network option off)` }) }
  }
}

/** Only `vitest-uml kernels build` (and pools with kernels of their own) need a compiler. */
async function checkKernelBuildTools(): Promise<Check> {
  const name = 'kernel builds (kernels build, custom-* kernels)'
  const missing = await findMissingKernelBuildTools()
  if (missing.length === 0) return { name, ok: true, detail: 'compiler and Kbuild tools found' }
  return {
    name,
    ok: false,
    optional: true,
    detail: `missing ${missing.map((tool) => tool.what).join(', ')}`,
    fix: `apt-get install ${missingPackages(missing)}`,
  }
}
