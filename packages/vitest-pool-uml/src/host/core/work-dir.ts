import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { UmlError } from './errors.js'
import { formatBytes } from './progress.js'

/** What is wrong with a directory that programs are built and run in, if anything. */
export interface WorkDirProblem {
  detail: string
  fix: string
}

/**
 * Checks that a directory can be written, that programs can run from it (no noexec mount), and
 * that it has `minFreeBytes` free. Resolves with the problem, or undefined when it is fine.
 */
export async function checkWorkDir(
  dir: string,
  minFreeBytes: number,
  env: string,
): Promise<WorkDirProblem | undefined> {
  try {
    await mkdir(dir, { recursive: true })
    const probeDir = await mkdtemp(join(dir, '.vitest-uml-probe-'))
    try {
      const script = join(probeDir, 'probe')
      await writeFile(script, '#!/bin/sh\nexit 0\n')
      await chmod(script, 0o755)
      const failure = await runProbe(script)
      if (failure === 'EACCES')
        return {
          detail: 'programs cannot run from it (mounted noexec?)',
          fix: `point ${env} at a directory on a file system mounted without noexec`,
        }
      if (failure) return { detail: `a program written there does not run (${failure})`, fix: `point ${env} elsewhere` }
    } finally {
      await rm(probeDir, { recursive: true, force: true })
    }
    const space = await statfs(dir)
    const free = space.bavail * space.bsize
    if (free < minFreeBytes)
      return {
        detail: `only ${formatBytes(free)} of the ${formatBytes(minFreeBytes)} needed is free`,
        fix: `free space there, or point ${env} at a directory with more room`,
      }
    return undefined
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return {
      detail: code === 'ENOSPC' ? 'it is full' : (error as Error).message,
      fix: `make it writable and free space there, or point ${env} elsewhere`,
    }
  }
}

/** Runs the probe script: undefined when it ran, else the error code (or message). */
async function runProbe(script: string): Promise<string | undefined> {
  const run = () =>
    promisify(execFile)(script).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    )
  const failure = await run()
  // ETXTBSY: another thread forked while the file was still open for writing; it passes.
  return failure === 'ETXTBSY' ? run() : failure
}

/** Like checkWorkDir, but a problem is a coded error that says what the directory is needed for. */
export async function requireWorkDir(
  dir: string,
  options: { minFreeBytes: number; env: string; why: string },
): Promise<void> {
  const problem = await checkWorkDir(dir, options.minFreeBytes, options.env)
  if (!problem) return
  throw new UmlError(
    'UML_WORK_DIR_UNUSABLE',
    `The directory ${dir} (${options.env}) cannot be used ${options.why}: ${problem.detail}. Fix: ${problem.fix}.`,
    { details: { dir, ...problem } },
  )
}
