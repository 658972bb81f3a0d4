import { rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { findHiddenPaths, type HiddenPath } from '../../../../src/host/pool/wall/hidden-files.js'
import { hostFilesFixture } from './fake-host-files.js'

let fixture: Awaited<ReturnType<typeof hostFilesFixture>>
beforeAll(async () => {
  fixture = await hostFilesFixture()
})
afterAll(async () => {
  await rm(fixture.base, { recursive: true })
})

it('allows what server.fs allows, judged on real paths', () => {
  const { files, root, ws, base } = fixture
  expect(files.allows(`${root}/src/index.ts`)).toBe(true)
  expect(files.allows(`${ws}/app-secrets/secret.js`)).toBe(true)
  expect(files.allows(`${base}/outside/secret.txt`)).toBe(false)
  expect(files.allows(`${root}/.env`)).toBe(false)
  expect(files.allows(`${root}/.git/config`)).toBe(false)
  // Inside the project by name, outside by its real path.
  expect(files.allows(`${root}/src/link.txt`)).toBe(false)
})

it('reads the file a module URL names, the way Vite would', () => {
  const { files, root, base } = fixture
  expect(files.namedFile('/@fs/etc/shadow?raw')).toBe('/etc/shadow')
  expect(files.namedFile('file:///etc/shadow')).toBe('/etc/shadow')
  expect(files.namedFile('/src/index.ts')).toBe(`${root}/src/index.ts`)
  expect(files.namedFile('/etc/shadow?raw')).toBe('/etc/shadow')
  expect(files.namedFile('../outside/secret.txt', `${root}/x.ts`)).toBe(`${fixture.ws}/outside/secret.txt`)
  expect(files.namedFile('vitest')).toBeUndefined()
  expect(files.namedFile('lib/../../../etc/shadow')).toBe('..')
  expect(files.allowsUrl('lib/../../../etc/shadow')).toBe(false)
  expect(files.allowsUrl('node:fs')).toBe(true)
  expect(files.allowsUrl(`/@fs${base}/outside/secret.txt?raw`)).toBe(false)
})

it('tells the project from a sibling whose name starts with it', () => {
  const { files, root, ws } = fixture
  expect(files.isInRoot(`${root}/src/index.ts`)).toBe(true)
  expect(files.isInRoot(`${ws}/app-secrets/secret.js`)).toBe(false)
  expect(files.isInRoot(`${root}/src/link.txt`)).toBe(false)
})

it('finds what the project share must hide at any depth, also through a linked root: denied files and directories, not links or node_modules', async () => {
  const expected = [
    { path: '.env', directory: false },
    { path: '.git', directory: true },
    { path: 'src/config/deep/.env', directory: false },
  ]
  const sorted = (hidden: HiddenPath[]) => hidden.sort((a, b) => a.path.localeCompare(b.path))
  expect(sorted(await findHiddenPaths(fixture.root, fixture.files))).toEqual(expected)
  const linkedRoot = join(fixture.base, 'linked-app')
  await symlink(fixture.root, linkedRoot)
  expect(sorted(await findHiddenPaths(linkedRoot, fixture.files))).toEqual(expected)
})
