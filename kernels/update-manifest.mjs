#!/usr/bin/env node
// Maintainer tool: reads each pinned suite's Packages.xz from the mirror and prints kernels/manifest.json
// with the current versions, sizes and hashes (`--write` replaces the file). Lib sets are named after
// the suite they come from; kernel sources (linux-source-*) are updated too. Review the diff, then fetch the
// changed kernels to check they still start, and build from changed sources (`vitest-uml kernels build`).
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'

const manifestUrl = new URL('./manifest.json', import.meta.url)
const mirror = (process.env.VITEST_UML_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian').replace(/\/+$/, '')
const manifest = JSON.parse(readFileSync(manifestUrl, 'utf8'))
const indexes = new Map()

async function packagesOf(suite) {
  if (!indexes.has(suite)) {
    const url = `${mirror}/dists/${suite}/main/binary-amd64/Packages.xz`
    const response = await fetch(url)
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
    const text = execFileSync('xz', ['-dc'], {
      input: Buffer.from(await response.arrayBuffer()),
      maxBuffer: 1024 ** 3,
    }).toString('utf8')
    indexes.set(suite, parseStanzas(text))
  }
  return indexes.get(suite)
}

function parseStanzas(text) {
  const byName = new Map()
  for (const stanza of text.split('\n\n')) {
    const fields = Object.fromEntries(
      stanza
        .split('\n')
        .filter((line) => /^[A-Za-z0-9-]+: /.test(line))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
    )
    if (fields.Package) byName.set(fields.Package, fields)
  }
  return byName
}

async function currentPin(suite, name) {
  const fields = (await packagesOf(suite)).get(name)
  if (!fields) throw new Error(`${name} is not in ${suite}`)
  const pin = {
    package: name,
    version: fields.Version,
    filename: fields.Filename,
    size: Number(fields.Size),
    sha256: fields.SHA256,
  }
  return { pin, depends: fields.Depends ?? '' }
}

for (const kernel of Object.values(manifest.kernels)) {
  const { pin, depends } = await currentPin(kernel.suite, kernel.deb.package)
  const minGlibc = /libc6 \(>= (\d+\.\d+)/.exec(depends)?.[1]
  if (!minGlibc) throw new Error(`no libc6 dependency in ${kernel.suite}'s ${pin.package}: ${depends}`)
  kernel.deb = pin
  kernel.minGlibc = minGlibc
}
for (const source of Object.values(manifest.sources)) {
  source.deb = (await currentPin(source.suite, source.deb.package)).pin
}
for (const [suite, debs] of Object.entries(manifest.libs)) {
  manifest.libs[suite] = await Promise.all(debs.map(async (deb) => (await currentPin(suite, deb.package)).pin))
}

const json = `${JSON.stringify(manifest, null, 2)}\n`
if (process.argv.includes('--write')) writeFileSync(manifestUrl, json)
else process.stdout.write(json)
