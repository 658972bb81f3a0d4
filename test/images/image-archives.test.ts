import { existsSync } from 'node:fs'
import { open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { getCacheDir } from 'vitest-pool-uml/api'
import { buildBusyboxRoot } from '../helpers/busybox-rootfs.js'
import { tarOf, tarOfDirectory, writeOciLayout } from '../helpers/oci-layout.js'
import { runCli } from '../helpers/run-cli.js'
import { useScratchDir } from '../helpers/scratch-dir.js'

const scratch = useScratchDir('vitest-uml-image-archives-')
const NAMES = ['archive-oci-dir', 'archive-oci-tar', 'archive-docker-save', 'archive-tampered']
let layout: string

/** What the guest finds of the upper layer: a file it adds and one it whites out. */
const PROBE = 'cat /etc/added; test -e /etc/removed && echo removed-still-there; true'

beforeAll(async () => {
  const busybox = await tarOfDirectory(await buildBusyboxRoot(scratch()))
  const lower = await tarOf([{ name: 'etc/removed', content: 'gone\n' }])
  const upper = await tarOf([{ name: 'etc/.wh.removed' }, { name: 'etc/added', content: 'from the upper layer\n' }])
  layout = join(scratch(), 'layout')
  await writeOciLayout(layout, '1', { layers: [busybox, lower, upper], index: true })
})

afterAll(async () => {
  for (const name of NAMES) await runCli(['images', 'rm', name])
})

async function importAndRun(path: string, name: string): Promise<string> {
  const imported = await runCli(['images', 'import', path, '--name', name])
  expect(imported.exitCode, imported.all).toBe(0)
  const run = await runCli(['run', '--image', name, '--', 'sh', '-c', PROBE])
  expect(run.exitCode, run.all).toBe(0)
  return run.stdout
}

it('imports an OCI image layout, as a directory and as a tarball', async () => {
  expect(await importAndRun(layout, 'archive-oci-dir')).toBe('from the upper layer')
  const tarball = join(scratch(), 'layout.tar')
  await execa('tar', ['--create', `--file=${tarball}`, `--directory=${layout}`, '.'])
  expect(await importAndRun(tarball, 'archive-oci-tar')).toBe('from the upper layer')
})

it('imports `docker save` output (written by skopeo as docker-archive)', async () => {
  const saved = join(scratch(), 'saved.tar')
  await execa('skopeo', [
    'copy',
    '--insecure-policy',
    '--quiet',
    `oci:${layout}:1`,
    `docker-archive:${saved}:vitest/saved:1`,
  ])
  expect(await importAndRun(saved, 'archive-docker-save')).toBe('from the upper layer')
})

it('refuses a layout whose blob was changed, caching nothing', async () => {
  const blobs = join(layout, 'blobs', 'sha256')
  let largest = { path: '', size: 0 }
  for (const name of await readdir(blobs)) {
    const file = await open(join(blobs, name))
    const { size } = await file.stat()
    await file.close()
    if (size > largest.size) largest = { path: join(blobs, name), size }
  }
  const file = await open(largest.path, 'r+')
  await file.write(Buffer.from('tampered'), 0, 8, largest.size >> 1)
  await file.close()
  const imported = await runCli(['images', 'import', layout, '--name', 'archive-tampered'])
  expect(imported.exitCode).toBe(1)
  expect(imported.stderr).toContain('[UML_IMAGE_DIGEST_MISMATCH]')
  expect(existsSync(join(getCacheDir(), 'images', 'archive-tampered'))).toBe(false)
})
