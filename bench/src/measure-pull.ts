import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { execa } from 'execa'
import { debianMirror, type Progress, pullImage } from 'vitest-pool-uml/api'
import { median, round } from './stats.js'

/** The targets: pull and convert of a ~30 MB image from a registry on this machine. */
const TARGET_COLD_S = 10
const TARGET_CACHED_S = 0.5
const COLD_PULLS = 3
const CACHED_PULLS = 5
/** A real distribution's userland of about 30 MB (gzip), made as Docker's `debian:bookworm-slim` is. */
const SUITE = 'bookworm'
const SLIM = [
  '--variant=minbase',
  '--format=tar',
  '--aptopt=Acquire::Check-Valid-Until "false"',
  ...['/usr/share/man/*', '/usr/share/locale/*', '/usr/share/doc/*', '/usr/share/info/*'].map(
    (path) => `--dpkgopt=path-exclude=${path}`,
  ),
  '--dpkgopt=path-include=/usr/share/doc/*/copyright',
  '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
]

export interface PullFigures {
  /** Size of the image's one layer as pushed (gzip). */
  layerMB: number
  /** Medians, seconds: a pull into an empty cache (download, then flatten and ext4), and a pinned, cached one. */
  coldS: number
  downloadS: number
  convertS: number
  cachedS: number
}

/**
 * Pushes a Debian slim image to Debian's docker-registry on this machine (made with mmdebstrap
 * and umoci, pushed with skopeo), then times `pullImage` into empty caches and, pinned, from a
 * warm one. Cold and cached pulls alternate so that drift on a shared machine favours neither.
 */
export async function measurePull(): Promise<PullFigures> {
  for (const tool of ['docker-registry', 'skopeo', 'umoci', 'mmdebstrap']) {
    if ((await execa('sh', ['-c', `command -v ${tool}`], { reject: false })).failed) {
      throw new Error(`The pull bench needs ${tool}: apt-get install docker-registry skopeo umoci mmdebstrap`)
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-bench-pull-'))
  const registry = await startRegistry(dir)
  try {
    const rootfs = join(dir, 'rootfs.tar')
    const mmdebstrap = ['mmdebstrap', ...SLIM, SUITE, rootfs, debianMirror()]
    // As root, mmdebstrap mounts /proc and /sys in its chroot: in a mount namespace of its own they end with it.
    const [command, ...args] =
      process.getuid?.() === 0 ? ['unshare', '--mount', '--propagation', 'private', '--', ...mmdebstrap] : mmdebstrap
    await execa(command!, args, { env: { TMPDIR: dir } })
    const layout = join(dir, 'layout')
    await execa('umoci', ['init', '--layout', layout])
    await execa('umoci', ['new', '--image', `${layout}:1`])
    await execa('umoci', ['raw', 'add-layer', '--image', `${layout}:1`, rootfs])
    await execa('umoci', ['config', '--image', `${layout}:1`, '--architecture=amd64', '--os=linux'])
    const ref = `${registry.host}/bench/debian:${SUITE}`
    await execa('skopeo', [
      'copy',
      '--insecure-policy',
      '--quiet',
      '--dest-tls-verify=false',
      `oci:${layout}:1`,
      `docker://${ref}`,
    ])
    const layerMB = (await largestBlobBytes(join(layout, 'blobs', 'sha256'))) / 1e6

    const lockFile = join(dir, 'vitest-uml.lock.json')
    const warmCache = await mkdtemp(join(dir, 'warm-'))
    await pullImage(ref, { cacheDir: warmCache, lockFile })
    const cold: number[] = []
    const download: number[] = []
    const convert: number[] = []
    const cached: number[] = []
    for (let round = 0; round < Math.max(COLD_PULLS, CACHED_PULLS); round++) {
      if (round < COLD_PULLS) {
        const cacheDir = await mkdtemp(join(dir, 'cold-'))
        const steps = stepTimer()
        const started = performance.now()
        await pullImage(ref, { cacheDir, lockFile, progress: steps.progress })
        cold.push(performance.now() - started)
        download.push(steps.took('pull'))
        convert.push(steps.took('image'))
        await rm(cacheDir, { recursive: true, force: true })
      }
      if (round < CACHED_PULLS) {
        const started = performance.now()
        await pullImage(ref, { cacheDir: warmCache, lockFile })
        cached.push(performance.now() - started)
      }
    }
    const s = (values: number[]) => median(values) / 1000
    return { layerMB, coldS: s(cold), downloadS: s(download), convertS: s(convert), cachedS: s(cached) }
  } finally {
    await registry.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

/** The pull bench as a section of `pnpm bench`: its figures, lines and targets. */
export async function pullSection() {
  const pull = await measurePull()
  const targets = { pullCold: pull.coldS < TARGET_COLD_S, pullCached: pull.cachedS < TARGET_CACHED_S }
  const check = (met: boolean) => (met ? 'met' : 'MISSED')
  return {
    report: { pull: Object.fromEntries(Object.entries(pull).map(([key, value]) => [key, round(value, 3)])) },
    lines: [
      `pull (images pull of a Debian ${SUITE}-slim image, ${round(pull.layerMB, 1)} MB, from docker-registry on this machine; medians)`,
      `  cold (empty cache)    ${round(pull.coldS, 2)} s: download ${round(pull.downloadS, 2)} s, layers to ext4 ${round(pull.convertS, 2)} s  (target < ${TARGET_COLD_S} s: ${check(targets.pullCold)})`,
      `  pinned and cached     ${round(pull.cachedS * 1000, 1)} ms  (target < ${TARGET_CACHED_S * 1000} ms: ${check(targets.pullCached)})`,
    ],
    targets,
  }
}

/** A Progress that notes how long each step took, by the first word of its label. */
function stepTimer() {
  const took: Record<string, number> = {}
  let current: { step: string; started: number } | undefined
  const progress: Progress = {
    start(label) {
      current = { step: label.split(' ')[0]!, started: performance.now() }
    },
    update() {},
    end() {
      if (current) took[current.step] = (took[current.step] ?? 0) + performance.now() - current.started
      current = undefined
    },
  }
  return { progress, took: (step: string) => took[step] ?? 0 }
}

async function largestBlobBytes(dir: string): Promise<number> {
  const { stdout } = await execa('ls', [dir])
  const sizes = await Promise.all(stdout.split('\n').map(async (name) => (await stat(join(dir, name))).size))
  return Math.max(...sizes)
}

/** Debian's docker-registry on a free port of 127.0.0.1, without authentication, storing in `dir`. */
async function startRegistry(dir: string): Promise<{ host: string; stop(): Promise<void> }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  const host = `127.0.0.1:${port}`
  const config = join(dir, 'registry.yml')
  await writeFile(
    config,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\nhttp:\n  addr: ${host}\n`,
  )
  const registry = execa('docker-registry', ['serve', config], { reject: false, stdin: 'ignore' })
  for (let tries = 0; tries < 200; tries++) {
    if ((await fetch(`http://${host}/v2/`).catch(() => undefined))?.ok) break
    await delay(100)
  }
  return {
    host,
    async stop() {
      registry.kill('SIGTERM')
      await registry
    },
  }
}
