import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type SnapshotScope, serveHostFsRequest } from '../../../../src/host/pool/wall/snapshot-files.js'
import { hostFilesFixture } from './fake-host-files.js'

let fixture: Awaited<ReturnType<typeof hostFilesFixture>>
let scope: SnapshotScope
const request = (op: 'read' | 'write' | 'remove' | 'mkdir', path: string, content?: string) => ({
  __vitest_uml_fs__: true as const,
  id: 1,
  op,
  path,
  content,
})

beforeEach(async () => {
  fixture = await hostFilesFixture()
  const { root, files } = fixture
  await writeFile(join(root, 'vitest.config.ts'), 'export default {}\n')
  await mkdir(join(root, 'node_modules'), { recursive: true })
  await symlink(join(fixture.ws, 'app-secrets'), join(root, 'node_modules', 'secrets'))
  scope = {
    files,
    testFiles: new Set([`${root}/test/a.test.ts`]),
    snapshotPath: (file) => join(dirname(file), '__snapshots__', `${file.split('/').pop()}.snap`),
    updateMode: 'new',
    hostCode: new Set([`${root}/vitest.config.ts`]),
    isModule: (path) => path === `${root}/src/index.ts`,
    isTestFile: (path) => path.endsWith('.test.ts'),
  }
})
afterEach(async () => {
  await rm(fixture.base, { recursive: true })
})

async function serve(op: 'read' | 'write' | 'remove' | 'mkdir', path: string, content?: string) {
  return serveHostFsRequest(request(op, path, content), scope)
}

describe('the snapshot file service', () => {
  it('writes and reads what Vitest writes: the test file’s .snap and file snapshots beside it', async () => {
    const snap = `${fixture.root}/test/__snapshots__/a.test.ts.snap`
    expect(await serve('write', snap, 'exports[`a 1`] = `1`;\n')).not.toHaveProperty('error')
    expect((await serve('read', snap)).result).toBe('exports[`a 1`] = `1`;\n')
    expect(await serve('write', `${fixture.root}/test/out/a.html`, '<p>')).not.toHaveProperty('error')
    expect(await readFile(`${fixture.root}/test/out/a.html`, 'utf8')).toBe('<p>')
    expect((await serve('read', `${fixture.root}/test/missing.txt`)).result).toBeNull()
  })

  it.each([
    ['the config (host code)', 'vitest.config.ts'],
    ['package.json', 'package.json'],
    ['a dot directory', 'test/.husky/pre-commit'],
    ['a denied file', '.env'],
    ['node_modules, through a link', 'node_modules/secrets/secret.js'],
    ['a source module', 'src/index.ts'],
    ['another test file', 'test/b.test.ts'],
    ['another test file’s .snap', 'test/__snapshots__/b.test.ts.snap'],
    ['a file away from its test and from __snapshots__', 'GNUmakefile'],
    ['a path out of the project', '../outside.txt'],
    ['a path through a link', 'src/link.txt'],
  ])('refuses to write %s', async (_, relativePath) => {
    const path = join(fixture.root, relativePath)
    const reply = await serve('write', path, 'pwned')
    expect(reply.error).toMatch(/^vitest-uml refused to write/)
    expect(await readFile(path, 'utf8').catch(() => 'absent')).not.toBe('pwned')
  })

  it('refuses what is not a normalized absolute path, and reads outside its rules', async () => {
    expect((await serve('write', `${fixture.root}/test/../../outside.txt`, 'x')).error).toMatch(/normalized/)
    expect((await serve('read', `${fixture.base}/outside/secret.txt`)).error).toMatch(/outside the project/)
  })

  it('enforces the update mode: none writes nothing, new only adds, all may replace and remove', async () => {
    const snap = `${fixture.root}/test/__snapshots__/a.test.ts.snap`
    const file = `${fixture.root}/test/__snapshots__/out.txt`
    scope.updateMode = 'none'
    expect((await serve('write', snap, 'exports[`a 1`] = `1`;\n')).error).toMatch(/not written/)
    scope.updateMode = 'new'
    await serve('write', snap, 'exports[`a 1`] = `1`;\n')
    await serve('write', file, 'one')
    expect((await serve('write', snap, 'exports[`a 1`] = `2`;\n')).error).toMatch(/changes the snapshot/)
    expect((await serve('write', file, 'two')).error).toMatch(/needs -u/)
    expect((await serve('remove', snap)).error).toMatch(/only with -u/)
    expect(await serve('write', snap, 'exports[`a 1`] = `1`;\nexports[`b 1`] = `2`;\n')).not.toHaveProperty('error')
    scope.updateMode = 'all'
    expect(await serve('write', snap, 'exports[`a 1`] = `3`;\n')).not.toHaveProperty('error')
    expect(await serve('write', file, 'two')).not.toHaveProperty('error')
    expect(await serve('remove', snap)).not.toHaveProperty('error')
    expect((await serve('remove', file)).error).toMatch(/only obsolete snapshot files/)
  })

  it('lets a test file change only in its inline snapshots', async () => {
    const test = `${fixture.root}/test/a.test.ts`
    await writeFile(test, "it('a', () => expect(1).toMatchInlineSnapshot())\n")
    expect(await serve('write', test, "it('a', () => expect(1).toMatchInlineSnapshot(`1`))\n")).not.toHaveProperty(
      'error',
    )
    expect((await serve('write', test, "require('child_process').execSync('id')\n")).error).toMatch(/inline snapshot/)
  })

  it('serves any request as asked when the wall is off (the escape suite’s control)', async () => {
    const outside = `${fixture.base}/outside/secret.txt`
    expect((await serveHostFsRequest(request('read', outside), undefined)).result).toBe('secret\n')
  })
})
