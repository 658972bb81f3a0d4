import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { HOST_TOOLS, KERNEL_BUILD_TOOLS } from '../../../src/host/core/host-tools.js'

const INSTALL_SCRIPT = new URL('../../../../../scripts/install-host-packages.sh', import.meta.url)

it('installs, with the README’s script, every package whose tool vitest-uml needs', () => {
  const script = readFileSync(INSTALL_SCRIPT, 'utf8')
  const listed = /packages=\(([^)]*)\)/.exec(script)?.[1]?.split(/\s+/).filter(Boolean) ?? []
  expect(listed.length).toBeGreaterThan(0)
  for (const pkg of new Set(Object.values(HOST_TOOLS))) expect(listed).toContain(pkg)
})

it('installs what kernel builds need too, libc6-dev (the host headers) included', () => {
  const script = readFileSync(INSTALL_SCRIPT, 'utf8')
  const listed = [...script.matchAll(/packages=\(([^)]*)\)/g)].flatMap((match) => match[1]!.split(/\s+/))
  expect(script).toMatch(/apt-get install .*"\$\{kernel_build_packages\[@\]\}"/)
  expect(listed).toEqual(expect.arrayContaining([...new Set(Object.values(KERNEL_BUILD_TOOLS)), 'libc6-dev']))
})
