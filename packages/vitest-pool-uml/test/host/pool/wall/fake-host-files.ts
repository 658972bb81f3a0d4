import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { HostFiles } from '../../../../src/host/pool/wall/host-files.js'

/**
 * A workspace on disk with a project in it, a sibling whose name starts with the project's, a
 * secret outside, a link out of the project and a .env, judged by a Vite-like config whose
 * server.fs.allow is the workspace and whose deny list holds `.env` and `.git`.
 */
export async function hostFilesFixture() {
  const base = await mkdtemp(join(tmpdir(), 'vitest-uml-wall-'))
  const ws = join(base, 'ws')
  const root = join(ws, 'app')
  const files = {
    [`${root}/src/index.ts`]: 'export const a = 1\n',
    [`${root}/test/a.test.ts`]: "it('a', () => {})\n",
    [`${root}/.env`]: 'SECRET=1\n',
    [`${root}/src/config/deep/.env`]: 'SECRET=2\n',
    [`${root}/.git/config`]: '[core]\n',
    [`${ws}/app-secrets/secret.js`]: 'export const s = 1\n',
    [`${base}/outside/secret.txt`]: 'secret\n',
  }
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, content)
  }
  await symlink(`${base}/outside/secret.txt`, `${root}/src/link.txt`)
  const config = {
    server: { fs: { strict: true, allow: [ws] } },
    fsDenyGlob: (path: string) => /\/\.env$|\/\.git(\/|$)/.test(path),
    safeModulePaths: new Set<string>(),
    resolve: { alias: [{ find: '@', replacement: root }] },
  }
  return { base, ws, root, files: new HostFiles(config as never, root) }
}
