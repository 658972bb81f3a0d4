import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import { isUmlError } from '../../../src/host/core/index.js'
import { startNetworkHelper } from '../../../src/host/guest/network/network-helper.js'

let dir: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitest-uml-network-helper-'))
})

afterEach(async () => {
  vi.unstubAllEnvs()
  await rm(dir, { recursive: true, force: true })
})

/** A PATH holding executables of these names only (never run: the helper checks for its tools first). */
async function pathWith(...tools: string[]): Promise<string> {
  const bin = join(dir, 'bin')
  await mkdir(bin)
  for (const tool of tools) {
    await writeFile(join(bin, tool), '#!/bin/sh\nexit 1\n')
    await chmod(join(bin, tool), 0o755)
  }
  return bin
}

async function startError(): Promise<unknown> {
  const cacheDir = join(dir, 'cache')
  const error = await startNetworkHelper({ outbound: true, allow: [], forward: new Map() }, new Map(), cacheDir, () => {
    throw new Error('nothing should be refused')
  }).then(
    () => undefined,
    (error: unknown) => error,
  )
  // Refused before anything was made or started.
  expect(await readdir(cacheDir).catch(() => [])).toEqual([])
  return error
}

it('fails with UML_NETWORK_UNAVAILABLE naming slirp4netns and its package when it is not on PATH', async () => {
  vi.stubEnv('PATH', await pathWith('bwrap', 'perl'))
  const error = await startError()
  expect(isUmlError(error, 'UML_NETWORK_UNAVAILABLE')).toBe(true)
  expect((error as Error).message).toBe(
    "The guest's network cannot start: slirp4netns is not installed. Install it with: apt-get install slirp4netns (or leave the network option off).",
  )
  expect(isUmlError(error, 'UML_NETWORK_UNAVAILABLE') && error.details).toEqual({
    problem: 'slirp4netns is not installed',
    install: 'apt-get install slirp4netns',
  })
})

it('names every missing tool, and each package once', async () => {
  vi.stubEnv('PATH', await pathWith('bwrap'))
  const error = await startError()
  expect(isUmlError(error, 'UML_NETWORK_UNAVAILABLE') && error.details).toEqual({
    problem: 'perl and slirp4netns are not installed',
    install: 'apt-get install perl-base slirp4netns',
  })
})
