import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getCacheDir, removeCacheTree } from 'vitest-pool-uml/api'
import { buildBusyboxRoot } from '../helpers/busybox-rootfs.js'
import { tarOf, tarOfDirectory, writeOciLayout } from '../helpers/oci-layout.js'
import { startRegistry, type TestRegistry } from '../helpers/registry.js'
import { runCli } from '../helpers/run-cli.js'
import { useScratchDir } from '../helpers/scratch-dir.js'

const scratch = useScratchDir('vitest-uml-registry-pull-')
let registry: TestRegistry
let busybox: Buffer
/** A project directory: the CLI pins refs in its vitest-uml.lock.json. */
let project: string
let env: Record<string, string>

/** The cache directory of a repository of the test registry (see repositoryDirName). */
const repositoryCache = (repository: string) =>
  join(getCacheDir(), 'images', `${registry.host}/${repository}`.replace(/[^a-z0-9._-]/g, '_'))

async function dockerConfig(name: string, username: string, password: string): Promise<string> {
  const dir = join(scratch(), name)
  await mkdir(dir, { recursive: true })
  const auth = Buffer.from(`${username}:${password}`).toString('base64')
  await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }))
  return dir
}

async function push(repository: string, layers: Buffer[], options: { architecture?: string; index?: boolean } = {}) {
  const layout = join(scratch(), 'layouts', repository.replaceAll('/', '_') + String(Math.random()).slice(2))
  const { manifestDigest, layerDigests } = await writeOciLayout(layout, '1', { layers, ...options })
  await registry.push(layout, '1', repository)
  return { ref: `${registry.host}/${repository}:1`, manifestDigest, layerDigests }
}

const pull = (ref: string, extra: string[] = [], options: { env?: Record<string, string> } = {}) =>
  runCli(['images', 'pull', ref, ...extra], { cwd: project, env: options.env ?? env })

const lockFile = async () =>
  JSON.parse(await readFile(join(project, 'vitest-uml.lock.json'), 'utf8')) as {
    images: Record<string, { digest: string; manifest: string; platform: string }>
  }

beforeAll(async () => {
  registry = await startRegistry({ auth: 'basic' })
  busybox = await tarOfDirectory(await buildBusyboxRoot(scratch()))
  project = join(scratch(), 'project')
  await mkdir(project)
  env = { DOCKER_CONFIG: await dockerConfig('docker', registry.username, registry.password) }
})

afterAll(async () => {
  await registry?.stop()
  await removePulledImages()
})

/** Every image this file pulled: their cache directories start with the test registries' host. */
async function removePulledImages(): Promise<void> {
  const imagesDir = join(getCacheDir(), 'images')
  for (const name of await readdir(imagesDir)) {
    if (name.startsWith('127.0.0.1_')) await removeCacheTree(join(imagesDir, name))
  }
}

describe('images pull from a real registry (basic auth)', () => {
  it('pulls by tag, pins the digest, and boots the layers applied in order', async () => {
    const lower = await tarOf([
      { name: 'etc/removed-above', content: 'gone\n' },
      { name: 'etc/original', content: 'shared content\n' },
      { name: 'etc/alias', type: 'symlink', linkname: 'original' },
      { name: 'etc/config', content: 'lower config\n' },
      { name: 'etc/gone-link', type: 'symlink', linkname: 'original' },
      { name: 'opt/', type: 'directory' },
      { name: 'opt/data/', type: 'directory' },
      { name: 'opt/data/old', content: 'old\n' },
      { name: 'home/', type: 'directory' },
      { name: 'home/user/', type: 'directory', uid: 1000, gid: 1000, mode: 0o750 },
      { name: 'home/user/notes', content: 'mine\n', uid: 1000, gid: 1000, mode: 0o600 },
      { name: 'srv/', type: 'directory' },
      { name: 'srv/real/', type: 'directory' },
      { name: 'srv/current', type: 'symlink', linkname: 'real' },
      { name: 'srv/absolute', type: 'symlink', linkname: '/srv/real' },
    ])
    const upper = await tarOf([
      { name: 'etc/.wh.removed-above' },
      { name: 'etc/.wh.gone-link' },
      { name: 'opt/data/.wh..wh..opq' },
      { name: 'opt/data/new', content: 'new\n' },
      { name: 'usr/local/bin/', type: 'directory' },
      { name: 'usr/local/bin/linked', type: 'link', linkname: 'etc/original' },
      { name: 'usr/local/bin/suid', content: '#!/bin/sh\n', mode: 0o4755 },
      // Symlinks of the lower layer: one replaced by a file, a file replaced by one, two written through.
      { name: 'etc/alias', content: 'replaced\n' },
      { name: 'etc/config', type: 'symlink', linkname: '/etc/original' },
      { name: 'srv/current/via-relative', content: 'relative\n' },
      { name: 'srv/absolute/via-absolute', content: 'absolute\n' },
    ])
    const { ref, manifestDigest } = await push('vitest/layers', [busybox, lower, upper])
    const pulled = await pull(ref)
    expect(pulled.exitCode, pulled.all).toBe(0)
    expect(pulled.all).toContain(manifestDigest)
    expect((await lockFile()).images[ref]).toEqual({
      digest: manifestDigest,
      platform: 'linux/amd64',
      manifest: manifestDigest,
    })

    const script = [
      'test -e /etc/removed-above && echo removed-still-there',
      'test -L /etc/gone-link && echo gone-link-still-there',
      'test -L /etc/alias && echo alias-still-a-link',
      'ls -1 /opt/data',
      'stat -c "%h %i" /etc/original /usr/local/bin/linked',
      'cat /usr/local/bin/linked',
      'stat -c "%a %u:%g %n" /usr/local/bin/suid /home/user /home/user/notes',
      'cat /etc/alias',
      'readlink /etc/config',
      'cat /etc/config',
      'readlink /srv/current',
      'readlink /srv/absolute',
      'ls -1 /srv/real',
      'cat /srv/current/via-relative /srv/absolute/via-absolute',
    ].join('; ')
    const run = await runCli(['run', '--image', ref, '--', 'sh', '-c', script], { cwd: project, env })
    expect(run.exitCode, run.all).toBe(0)
    const lines = run.stdout.trim().split('\n')
    const [original, linked] = [lines[1]!.split(' '), lines[2]!.split(' ')]
    expect(original[0]).toBe('2')
    expect(linked).toEqual(original)
    expect([lines[0], ...lines.slice(3)]).toEqual([
      'new',
      'shared content',
      '4755 0:0 /usr/local/bin/suid',
      '750 1000:1000 /home/user',
      '600 1000:1000 /home/user/notes',
      'replaced',
      '/etc/original',
      'shared content',
      'real',
      '/srv/real',
      'via-absolute',
      'via-relative',
      'relative',
      'absolute',
    ])
  })

  it('uses the pinned digest until asked to --update, and then the new one', async () => {
    const first = await push('vitest/moving', [busybox, await tarOf([{ name: 'etc/version', content: 'one\n' }])])
    expect((await pull(first.ref)).exitCode).toBe(0)
    const second = await push('vitest/moving', [busybox, await tarOf([{ name: 'etc/version', content: 'two\n' }])])
    expect(second.manifestDigest).not.toBe(first.manifestDigest)

    const again = await pull(first.ref)
    expect(again.exitCode, again.all).toBe(0)
    expect(again.all).toContain(first.manifestDigest)
    expect((await lockFile()).images[first.ref]!.manifest).toBe(first.manifestDigest)
    const old = await runCli(['run', '--image', first.ref, '--', 'cat', '/etc/version'], { cwd: project, env })
    expect(old.stdout).toBe('one')

    const updated = await pull(first.ref, ['--update'])
    expect(updated.exitCode, updated.all).toBe(0)
    expect((await lockFile()).images[first.ref]!.manifest).toBe(second.manifestDigest)
    const now = await runCli(['run', '--image', first.ref, '--', 'cat', '/etc/version'], { cwd: project, env })
    expect(now.stdout).toBe('two')
  })

  it('lists pulled images by reference and digest, and removes them by reference', async () => {
    const { ref, manifestDigest } = await push('vitest/listed', [busybox])
    expect((await pull(ref)).exitCode).toBe(0)
    const listed = await runCli(['images', 'list'])
    expect(listed.stdout).toMatch(new RegExp(`${ref.replaceAll('.', '\\.')}\\s+oci\\s+yes\\s+.*${manifestDigest}`))
    const removed = await runCli(['images', 'rm', ref])
    expect(removed.stdout).toContain(`removed ${ref}`)
    expect((await runCli(['images', 'list'])).stdout).not.toContain(ref)
    expect(existsSync(repositoryCache('vitest/listed'))).toBe(false)
    expect((await runCli(['images', 'rm', ref])).stdout).toContain('was not in the cache')
  })

  it('refuses a tampered blob, caching nothing', async () => {
    const unique = await tarOf([{ name: 'etc/marker', content: randomBytes(8192).toString('hex') }])
    const { ref, layerDigests } = await push('vitest/tampered', [busybox, unique])
    // The registry serves what its storage holds: change a byte of this image's own layer there.
    const hex = layerDigests[1]!.slice('sha256:'.length)
    const blob = join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data')
    const file = await open(blob, 'r+')
    const { size } = await file.stat()
    const byte = Buffer.alloc(1)
    await file.read(byte, 0, 1, size >> 1)
    await file.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, size >> 1)
    await file.close()

    const result = await pull(ref)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('[UML_IMAGE_DIGEST_MISMATCH]')
    expect(existsSync(repositoryCache('vitest/tampered'))).toBe(false)
    expect((await lockFile()).images[ref]).toBeUndefined()
  })

  it('refuses a userland the guest cannot use, naming what it lacks, caching nothing', async () => {
    // busybox without its mount and mkdir applets, wherever init's PATH would look for them.
    const dirs = ['bin', 'sbin', 'usr/bin', 'usr/sbin']
    const without = await tarOf(
      dirs.flatMap((dir) => ['mount', 'mkdir'].map((tool) => ({ name: `${dir}/.wh.${tool}` }))),
    )
    const { ref } = await push('vitest/unusable', [busybox, without])
    const result = await pull(ref)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('[UML_IMAGE_UNUSABLE]')
    expect(result.stderr).toContain(
      `The image ${ref} lacks mount, mkdir, which a guest runs from its own root file system`,
    )
    expect(result.stderr).toContain('Use an image that has a shell and coreutils and util-linux, or busybox.')
    expect(existsSync(repositoryCache('vitest/unusable'))).toBe(false)
    expect((await lockFile()).images[ref]).toBeUndefined()
  })

  it('names the cause: unknown ref, no or wrong credentials, arm64 only', async () => {
    const unknown = await pull(`${registry.host}/vitest/nothing-here:1`)
    expect(unknown.stderr).toContain('[UML_IMAGE_NOT_FOUND]')

    const anonymous = await pull(`${registry.host}/vitest/layers:1`, ['--lock', join(scratch(), 'other.lock.json')], {
      env: { DOCKER_CONFIG: join(scratch(), 'nowhere') },
    })
    expect(anonymous.stderr).toContain('without credentials')
    expect(anonymous.stderr).toContain('[UML_REGISTRY_AUTH_FAILED]')
    const wrong = await pull(`${registry.host}/vitest/layers:1`, ['--lock', join(scratch(), 'other.lock.json')], {
      env: { DOCKER_CONFIG: await dockerConfig('wrong', registry.username, 'not-the-password') },
    })
    expect(wrong.stderr).toContain(`as ${registry.username}`)
    expect(wrong.stderr).toContain('[UML_REGISTRY_AUTH_FAILED]')

    const { ref } = await push('vitest/arm64-only', [busybox], { architecture: 'arm64', index: true })
    const arm = await pull(ref)
    expect(arm.stderr).toContain('linux/arm64')
    expect(arm.stderr).toContain('[UML_IMAGE_PLATFORM_MISSING]')
    expect(existsSync(repositoryCache('vitest/arm64-only'))).toBe(false)
  })
})

describe('images pull through a failing connection', () => {
  let proxy: Server
  let mode: 'cut' | '500' = 'cut'
  let cuts = 0

  beforeAll(async () => {
    // Between the CLI and the registry: cuts the first answer to each blob request short, or answers 500.
    proxy = createServer((incoming, outgoing) => {
      const isBlob = /\/blobs\/sha256:/.test(incoming.url ?? '')
      if (isBlob && mode === '500') {
        outgoing.writeHead(500).end('storage on fire')
        return
      }
      const [hostname, port] = registry.host.split(':')
      const forward = request(
        { hostname, port, path: incoming.url, method: incoming.method, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
          const length = Number(answer.headers['content-length'] ?? 0)
          if (isBlob && answer.statusCode === 200 && length > 1024 && !incoming.headers.range) {
            cuts++
            let sent = 0
            answer.on('data', (chunk: Buffer) => {
              if (sent > length / 2) return
              sent += chunk.length
              outgoing.write(chunk)
              if (sent > length / 2) outgoing.destroy()
            })
            return
          }
          answer.pipe(outgoing)
        },
      )
      incoming.pipe(forward)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  })

  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve))
  })

  it('resumes blobs whose download broke off, and reports a registry that fails', async () => {
    const { ref } = await push('vitest/resumed', [busybox, await tarOf([{ name: 'etc/resumed', content: 'yes\n' }])])
    const viaProxy = ref.replace(registry.host, `127.0.0.1:${(proxy.address() as AddressInfo).port}`)
    const proxyEnv = { DOCKER_CONFIG: await dockerConfig('proxy', registry.username, registry.password) }
    const configPath = join(proxyEnv.DOCKER_CONFIG, 'config.json')
    await writeFile(configPath, (await readFile(configPath, 'utf8')).replace(registry.host, viaProxy.split('/')[0]!))

    const resumed = await pull(viaProxy, [], { env: proxyEnv })
    expect(resumed.exitCode, resumed.all).toBe(0)
    expect(cuts).toBeGreaterThan(0)

    mode = '500'
    const { ref: fresh } = await push('vitest/fails', [busybox, await tarOf([{ name: 'etc/fails', content: 'no\n' }])])
    const failed = await pull(fresh.replace(registry.host, viaProxy.split('/')[0]!), [], { env: proxyEnv })
    expect(failed.stderr).toContain('500')
    expect(failed.stderr).toContain('storage on fire')
    expect(failed.stderr).toContain('[UML_REGISTRY_FAILED]')
  })
})

describe('images pull with token auth', () => {
  let tokenRegistry: TestRegistry

  beforeAll(async () => {
    tokenRegistry = await startRegistry({ auth: 'token' })
  })

  afterAll(async () => {
    await tokenRegistry?.stop()
  })

  it('gets a bearer token from the realm the challenge names, with the credentials of DOCKER_AUTH_CONFIG', async () => {
    const layout = join(scratch(), 'token-layout')
    await writeOciLayout(layout, '1', { layers: [busybox, await tarOf([{ name: 'etc/token', content: 'ok\n' }])] })
    await tokenRegistry.push(layout, '1', 'vitest/token')
    const ref = `${tokenRegistry.host}/vitest/token:1`
    const authConfig = (password: string) =>
      JSON.stringify({ auths: { [tokenRegistry.host]: { username: tokenRegistry.username, password } } })
    const nowhere = join(scratch(), 'nowhere')

    const wrong = await pull(ref, [], { env: { DOCKER_CONFIG: nowhere, DOCKER_AUTH_CONFIG: authConfig('wrong') } })
    expect(wrong.stderr).toContain('[UML_REGISTRY_AUTH_FAILED]')
    const pulled = await pull(ref, [], {
      env: { DOCKER_CONFIG: nowhere, DOCKER_AUTH_CONFIG: authConfig(tokenRegistry.password) },
    })
    expect(pulled.exitCode, pulled.all).toBe(0)
    expect((await lockFile()).images[ref]).toBeDefined()
  })
})
