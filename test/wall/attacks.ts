import { relative } from 'node:path'

/** Where the escape fixture keeps things: the project (a package of a pnpm workspace) and canaries outside it. */
export interface EscapePaths {
  /** The Vitest project, `<ws>/packages/app`. */
  root: string
  /** The pnpm workspace root. */
  ws: string
  /** Outside the workspace: what no guest may read. */
  canaries: string
  /** The secret each attack tries to get at (its canary's content). */
  token(attack: string): string
}

/** What one run left on the host to look at. */
export interface RunEvidence {
  /** Everything the host printed or wrote where a user would look: output, reports, attachments, project files. */
  text: string
  /** Files of the fixture (workspace and canaries) that were created, changed or removed, by path. */
  changed: Set<string>
  /** Whether the host Vitest process wrote its record (report/host.json) at the end of the run. */
  hostRecorded: boolean
  /** Keys found on Object.prototype in the host Vitest process at the end of the run. */
  pollution: string[]
  /** The JSON report's status of each test, by `<file> > <test name>`, or undefined if the run left none. */
  statuses: Map<string, string> | undefined
  /** The JSON report's status and message of each test file, by its path relative to the root. */
  files: Map<string, { status: string; message: string }>
  /** Peak memory of the host Vitest process, in MiB, or undefined if the run left none. */
  maxRssMiB: number | undefined
}

/**
 * How an attack is proven able to detect an escape: the same attack made on the host with
 * `--pool=forks` (no guest, no wall), or in a guest with the wall switched off.
 */
export type Control = 'forks' | 'wall-off'

export interface Attack {
  name: string
  /** What it tries, in words. */
  what: string
  control: Control
  /** Spoils the host's whole run when it gets through (a crash, a cancel, a polluted prototype): its control runs alone. */
  alone?: boolean
  /** Test files (relative to the project root) and their sources. */
  files(paths: EscapePaths): Record<string, string>
  /** Canary files it needs, relative to the canary directory, and their contents. */
  canaries?(paths: EscapePaths): Record<string, string>
  /** True if the evidence shows the attack got through. */
  escaped(evidence: RunEvidence, paths: EscapePaths): boolean
}

const kit = `import { attempt, frame, hostFs, moduleCode, rawCall, rawEvent, show, writeChannel } from './attack-kit'`

function attackTest(name: string, body: string, imports = ''): string {
  return `import { expect, it, vi } from 'vitest'
${imports}${kit}

it('${name}', async ({ annotate }) => {
${body}
})
`
}

/** A read attack: its canary file holds the token; the token showing up anywhere on the host is an escape. */
function readAttack(
  name: string,
  what: string,
  control: Control,
  canary: { file: string; content?: (token: string) => string },
  body: (paths: EscapePaths, canaryPath: string) => string,
  imports = '',
): Attack {
  return {
    name,
    what,
    control,
    files: (paths) => ({
      [`test/${name}.test.ts`]: attackTest(name, body(paths, `${paths.canaries}/${canary.file}`), imports),
    }),
    canaries: (paths) => ({ [canary.file]: (canary.content ?? ((token) => token))(paths.token(name)) }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token(name)),
  }
}

/** A write attack: the file it aims at being created or changed is an escape. */
function writeAttack(
  name: string,
  what: string,
  control: Control,
  target: (paths: EscapePaths) => string,
  body: (paths: EscapePaths, target: string) => string,
): Attack {
  return {
    name,
    what,
    control,
    files: (paths) => ({ [`test/${name}.test.ts`]: attackTest(name, body(paths, target(paths))) }),
    escaped: (evidence, paths) => evidence.changed.has(target(paths)),
  }
}

const json = JSON.stringify

/** Vitest's file hash (`generateFileHash` in @vitest/runner), for forging task ids of another file. */
const FILE_HASH = `function fileHash(path, projectName) {
  const text = path + (projectName || '')
  let hash = 0
  for (let i = 0; i < text.length; i++) {
    hash = (hash << 5) - hash + text.charCodeAt(i)
    hash = hash & hash
  }
  return String(hash)
}`

/** A source map that names a host file and leaves its content out, for Vite to fill in. */
function mapNaming(path: string): string {
  const map = { version: 3, sources: [path], names: [], mappings: 'AAAA' }
  return `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`
}

/** The size of the oversized frame, over the 64 MiB the host takes from a guest. */
export const OVERSIZED_FRAME_MIB = 96

/** Every attempt of the escape suite. */
export const ATTACKS: Attack[] = [
  // --- Module fetch: host files outside the allowed roots --------------------------------------
  readAttack(
    'f01-raw-literal',
    "import('/abs/path?raw') of a host file",
    'forks',
    { file: 'f01.txt' },
    (_, c) => `  await attempt(async () => (await import('${c}?raw')).default)`,
  ),
  readAttack(
    'f02-raw-variable',
    'import() of a host path held in a variable',
    'forks',
    { file: 'f02.txt' },
    (_, c) =>
      `  const path = ${json(`${c}?raw`)}\n  await attempt(async () => (await import(/* @vite-ignore */ path)).default)`,
  ),
  readAttack(
    'f03-fs-prefix',
    'import() of /@fs/<host path>',
    'forks',
    { file: 'f03.txt' },
    (_, c) =>
      `  const path = ${json(`/@fs${c}?raw`)}\n  await attempt(async () => (await import(/* @vite-ignore */ path)).default)`,
  ),
  readAttack(
    'f04-file-url',
    'import() of file://<host path>',
    'forks',
    { file: 'f04.txt' },
    (_, c) =>
      `  const path = ${json(`file://${c}?raw`)}\n  await attempt(async () => (await import(/* @vite-ignore */ path)).default)`,
  ),
  readAttack(
    'f05-json',
    'import() of a host .json file',
    'forks',
    { file: 'f05.json', content: (token) => json({ secret: token }) },
    (_, c) => `  const path = ${json(c)}\n  await attempt(async () => (await import(/* @vite-ignore */ path)).default)`,
  ),
  readAttack(
    'f06-js',
    'import() of a host .mjs module',
    'forks',
    { file: 'f06.mjs', content: (token) => `export const secret = ${json(token)}\n` },
    (_, c) => `  const path = ${json(c)}\n  await attempt(async () => (await import(/* @vite-ignore */ path)).secret)`,
  ),
  readAttack(
    'f07-import-actual',
    'vi.importActual() of a host module',
    'forks',
    { file: 'f07.mjs', content: (token) => `export const secret = ${json(token)}\n` },
    (_, c) => `  await attempt(async () => (await vi.importActual(${json(c)})).secret)`,
  ),
  {
    name: 'f08-glob-eager',
    what: "import.meta.glob('<relative path out of the workspace>/*', { eager: true, query: '?raw' })",
    control: 'forks',
    files: (paths) => ({
      'test/f08-glob-eager.test.ts': attackTest(
        'f08-glob-eager',
        `  show(import.meta.glob('${relative(`${paths.root}/test`, paths.canaries)}/f08*.txt', { eager: true, query: '?raw', import: 'default' }))`,
      ),
    }),
    canaries: (paths) => ({ 'f08.txt': paths.token('f08-glob-eager') }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token('f08-glob-eager')),
  },
  {
    name: 'f09-glob-names',
    what: 'import.meta.glob (lazy) listing host file names',
    control: 'forks',
    files: (paths) => ({
      'test/f09-glob-names.test.ts': attackTest(
        'f09-glob-names',
        `  show(Object.keys(import.meta.glob('${relative(`${paths.root}/test`, paths.canaries)}/f09-*.txt')))`,
      ),
    }),
    canaries: (paths) => ({ [`f09-${paths.token('f09-glob-names')}.txt`]: 'listed, not read' }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token('f09-glob-names')),
  },
  {
    name: 'f10-env-fetch',
    what: "import() of the project's .env (server.fs.deny)",
    control: 'forks',
    files: (paths) => ({
      'test/f10-env-fetch.test.ts': attackTest(
        'f10-env-fetch',
        `  const path = ${json(`${paths.root}/.env?raw`)}\n  await attempt(async () => (await import(/* @vite-ignore */ path)).default)`,
      ),
    }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token('project-env')),
  },
  {
    name: 'f11-env-share',
    what: "reading the project's .env from the guest's own mount of the project",
    control: 'forks',
    files: (paths) => ({
      'test/f11-env-share.test.ts': attackTest(
        'f11-env-share',
        `  await attempt(async () => readFileSync(${json(`${paths.root}/.env`)}, 'utf8'))`,
        `import { readFileSync } from 'node:fs'\n`,
      ),
    }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token('project-env')),
  },
  {
    name: 'f12-git-share',
    what: "reading the project's .git/config from the guest's own mount",
    control: 'forks',
    files: (paths) => ({
      'test/f12-git-share.test.ts': attackTest(
        'f12-git-share',
        `  await attempt(async () => readFileSync(${json(`${paths.root}/.git/config`)}, 'utf8'))`,
        `import { readFileSync } from 'node:fs'\n`,
      ),
    }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token('project-git')),
  },
  readAttack(
    'f13-symlink',
    'import() through a symbolic link in the project that leads out of it',
    'forks',
    { file: 'f13.txt' },
    () => "  await attempt(async () => (await import('./link-f13.txt?raw')).default)",
  ),
  readAttack(
    'f14-package-symlink',
    'import() of a file of a package whose node_modules link leads out of the workspace',
    'forks',
    { file: 'evil-pkg/f14.txt' },
    () =>
      "  const path = 'evil/f14.txt?raw'\n  await attempt(async () => (await import(/* @vite-ignore */ path)).default)",
  ),
  readAttack(
    'f15-raw-fetch',
    "Vitest's fetch RPC called by hand with a host path",
    'forks',
    { file: 'f15.txt' },
    (_, c) =>
      `  await attempt(async () => moduleCode(await rawCall('fetch', [${json(`${c}?raw`)}, undefined, 'ssr'])))`,
  ),
  {
    name: 'f16-source-map',
    what: 'a project file (planted as a file snapshot) whose source map names a host file, for Vite to fill in its content',
    control: 'forks',
    files: (paths) => ({
      'test/f16a-plant.test.ts': attackTest(
        'f16a-plant',
        `  await expect(${json(`export default 1\n${mapNaming(`${paths.canaries}/f16.txt`)}\n`)}).toMatchFileSnapshot('./__snapshots__/f16-planted.js')`,
      ),
      'test/f16b-fetch.test.ts': attackTest(
        'f16b-fetch',
        `  await attempt(async () => {
    const code = moduleCode(await rawCall('fetch', ['/test/__snapshots__/f16-planted.js', undefined, 'ssr']))
    const map = code.slice(code.lastIndexOf('base64,') + 7)
    return JSON.parse(Buffer.from(map, 'base64').toString()).sourcesContent
  })`,
      ),
    }),
    canaries: (paths) => ({ 'f16.txt': paths.token('f16-source-map') }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token('f16-source-map')),
  },
  // --- File snapshots (toMatchFileSnapshot) aimed where they must not go -----------------------
  writeAttack(
    's01-config',
    'toMatchFileSnapshot over vitest.config.ts (host code)',
    'forks',
    (p) => `${p.root}/vitest.config.ts`,
    () => "  await attempt(() => expect('export default {}\\n').toMatchFileSnapshot('../vitest.config.ts'))",
  ),
  writeAttack(
    's02-package-json',
    'toMatchFileSnapshot over package.json',
    'forks',
    (p) => `${p.root}/package.json`,
    () => "  await attempt(() => expect('{}').toMatchFileSnapshot('../package.json'))",
  ),
  writeAttack(
    's03-through-package-link',
    'toMatchFileSnapshot through a workspace package link in node_modules',
    'forks',
    (p) => `${p.ws}/packages/lib/s03.txt`,
    () => "  await attempt(() => expect('x').toMatchFileSnapshot('../node_modules/@ws/lib/s03.txt'))",
  ),
  writeAttack(
    's04-outside',
    'toMatchFileSnapshot out of the project with ../',
    'forks',
    (p) => `${p.ws}/outside-s04.txt`,
    () => "  await attempt(() => expect('x').toMatchFileSnapshot('../../../outside-s04.txt'))",
  ),
  writeAttack(
    's05-makefile',
    'toMatchFileSnapshot creating GNUmakefile at the project root (run by make)',
    'forks',
    (p) => `${p.root}/GNUmakefile`,
    () => "  await attempt(() => expect('all:\\n\\ttouch pwned\\n').toMatchFileSnapshot('../GNUmakefile'))",
  ),
  writeAttack(
    's06-git-hook',
    'toMatchFileSnapshot creating a git hook under a dot directory',
    'forks',
    (p) => `${p.root}/.husky/pre-commit`,
    () => "  await attempt(() => expect('touch pwned').toMatchFileSnapshot('../.husky/pre-commit'))",
  ),
  writeAttack(
    's07-source-module',
    'toMatchFileSnapshot over a source module of the project',
    'forks',
    (p) => `${p.root}/src/index.ts`,
    () => "  await attempt(() => expect('export const answer = 0\\n').toMatchFileSnapshot('../src/index.ts'))",
  ),
  // --- The snapshot file service, asked by hand -------------------------------------------------
  writeAttack(
    'h01-config',
    "the host's snapshot file service asked to write vitest.config.ts",
    'wall-off',
    (p) => `${p.root}/vitest.config.ts`,
    (_, t) => `  await attempt(() => hostFs('write', ${json(t)}, 'export default {}\\n'))`,
  ),
  writeAttack(
    'h02-dot-dot',
    'the file service asked to write out of the project through ../',
    'wall-off',
    (p) => `${p.ws}/packages/outside-h02.txt`,
    (p) => `  await attempt(() => hostFs('write', ${json(`${p.root}/../outside-h02.txt`)}, 'x'))`,
  ),
  readAttack(
    'h03-read',
    'the file service asked to read a host file',
    'wall-off',
    { file: 'h03.txt' },
    (_, c) => `  await attempt(() => hostFs('read', ${json(c)}))`,
  ),
  writeAttack(
    'h04-remove',
    'the file service asked to remove a source file',
    'wall-off',
    (p) => `${p.root}/src/remove-me.ts`,
    (_, t) => `  await attempt(() => hostFs('remove', ${json(t)}))`,
  ),
  writeAttack(
    'h05-test-code',
    'the file service asked to rewrite the running test file with code of its choosing',
    'wall-off',
    (p) => `${p.root}/test/h05-test-code.test.ts`,
    (_, t) =>
      `  await attempt(() => hostFs('write', ${json(t)}, "import { execSync } from 'node:child_process'\\nexecSync('id')\\n"))`,
  ),
  writeAttack(
    'h06-other-snap',
    "the file service asked to write another test file's .snap",
    'wall-off',
    (p) => `${p.root}/test/__snapshots__/r06a-victim.test.ts.snap`,
    (_, t) => `  await attempt(() => hostFs('write', ${json(t)}, 'exports[\`forged 1\`] = \`1\`;\\n'))`,
  ),
  writeAttack(
    'h07-through-link',
    'the file service asked to write through a package link in node_modules',
    'wall-off',
    (p) => `${p.ws}/packages/lib/h07.txt`,
    (p) => `  await attempt(() => hostFs('write', ${json(`${p.root}/node_modules/@ws/lib/h07.txt`)}, 'x'))`,
  ),
  // --- Vitest's RPC, beyond module fetches ------------------------------------------------------
  {
    name: 'r01-coverage-sibling',
    what: 'coverage naming a file of a sibling directory whose name starts with the root (Vitest checks startsWith(root))',
    control: 'forks',
    alone: true,
    files: (paths) => ({
      'test/r01-coverage-sibling.test.ts': attackTest(
        'r01-coverage-sibling',
        `  const url = ${json(`file://${paths.ws}/packages/app-secrets/r01.js`)}
  const functions = [{ functionName: '', isBlockCoverage: true, ranges: [{ startOffset: 0, endOffset: 60, count: 1 }] }]
  // Another Vite environment than the worker's own, so the worker's coverage does not replace it.
  rawEvent('onAfterSuiteRun', [{ coverage: { result: [{ scriptId: '1', url, functions }] }, environment: '__vitest__', projectName: '', testFiles: ['test/r01-coverage-sibling.test.ts'] }])`,
      ),
    }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token('r01-coverage-sibling')),
  },
  {
    name: 'r02-proto-pollution',
    what: 'coverage for a Vite environment named __proto__, polluting Object.prototype in the host',
    control: 'forks',
    alone: true,
    files: () => ({
      'test/r02-proto-pollution.test.ts': attackTest(
        'r02-proto-pollution',
        "  rawEvent('onAfterSuiteRun', [{ coverage: { result: [] }, environment: '__proto__', projectName: '', testFiles: ['r02-polluted'] }])",
      ),
    }),
    escaped: (evidence) => evidence.pollution.includes('r02-polluted'),
  },
  readAttack(
    'r03-annotation',
    'annotate(message, { path }) naming a host file, which the host copies',
    'forks',
    { file: 'r03.txt' },
    (_, c) => `  await attempt(() => annotate('attached', { path: ${json(c)} }))`,
  ),
  readAttack(
    'r04-leak-stack',
    'an async leak whose stack names a host file (printed as a code frame)',
    'forks',
    { file: 'r04.txt' },
    (p, c) =>
      `  rawEvent('onAsyncLeaks', [[{ filename: ${json(`${p.root}/test/r04-leak-stack.test.ts`)}, projectName: '', type: 'Timeout', stack: ${json(`Error: leak\n    at leak (${c}:1:1)`)} }]])`,
  ),
  readAttack(
    'r05-error-frame',
    'a module graph entry for a host file, then an error whose stack names it (printed as a code frame)',
    'forks',
    { file: 'r05.txt' },
    (p, c) =>
      `  await attempt(() => rawCall('ensureModuleGraphEntry', [${json(c)}, ${json(`${p.root}/test/r05-error-frame.test.ts`)}]))
  const error = new Error('r05')
  error.stack = ${json(`Error: r05\n    at frame (${c}:1:1)`)}
  throw error`,
  ),
  {
    name: 'r06-spoof-result',
    what: "task updates for another file's test, turning its failure into a pass",
    control: 'forks',
    files: () => ({
      'test/r06a-victim.test.ts':
        "import { it } from 'vitest'\n\nit('fails on purpose', () => {\n  throw new Error('the victim fails')\n})\n",
      'test/r06b-spoof.test.ts': attackTest(
        'r06b-spoof',
        `  ${FILE_HASH.replaceAll('\n', '\n  ')}
  const victim = fileHash('test/r06a-victim.test.ts', '') + '_0'
  rawEvent('onTaskUpdate', [[[victim, { state: 'pass' }, {}]], []])
  await new Promise((resolve) => setTimeout(resolve, 500))`,
      ),
    }),
    escaped: (evidence) => evidence.statuses?.get('test/r06a-victim.test.ts > fails on purpose') !== 'failed',
  },
  {
    name: 'r07-cancel',
    what: 'cancelling everyone’s run from a worker without --bail',
    control: 'forks',
    alone: true,
    files: () => ({
      'test/r07a-cancel.test.ts': attackTest(
        'r07a-cancel',
        "  rawEvent('onCancel', ['keyboard-input'])\n  await new Promise((resolve) => setTimeout(resolve, 500))",
      ),
      'test/r07b-sentinel.test.ts':
        "import { expect, it } from 'vitest'\n\nit('runs after the cancel attempt', () => {\n  expect(1).toBe(1)\n})\n",
    }),
    escaped: (evidence) =>
      evidence.statuses?.get('test/r07b-sentinel.test.ts > runs after the cancel attempt') !== 'passed',
  },
  {
    name: 'r08-environment',
    what: "CI secrets from the host's environment (GITHUB_TOKEN, NPM_TOKEN)",
    control: 'forks',
    files: () => ({
      'test/r08-environment.test.ts': attackTest(
        'r08-environment',
        '  show([process.env.GITHUB_TOKEN, process.env.NPM_TOKEN])',
      ),
    }),
    escaped: (evidence, paths) => evidence.text.includes(paths.token('r08-environment')),
  },
  // --- The channel itself ------------------------------------------------------------------------
  ...(
    [
      [
        'c01-malformed-frame',
        'a frame whose payload is not V8 serialization',
        'Buffer.from([0, 0, 0, 8, 255, 255, 255, 255, 255, 255, 255, 255])',
      ],
      ['c02-huge-length', 'a frame header claiming 4 GiB', 'Buffer.from([255, 255, 255, 255])'],
      [
        'c03-wrong-shape',
        'well-formed frames of the wrong shape (output whose data is a number)',
        // To every process id a guest may have started by now (a session check runs before the worker).
        "Buffer.concat(Array.from({ length: 64 }, (_, i) => frame({ t: 'stdout', id: i + 1, data: 42 })))",
      ],
      [
        'c05-undecodable-ipc',
        "a well-formed IPC frame whose message is not Node's serialization (a host object of unknown tag)",
        "frame({ t: 'ipc', id: 1, bytes: Buffer.from([255, 15, 92, 7]) })",
      ],
    ] as const
  ).map(
    ([name, what, bytes]): Attack => ({
      name,
      what: `${what}, written on the guest's channel by guest root`,
      control: 'wall-off',
      alone: true,
      files: () => ({
        [`test/${name}.test.ts`]: attackTest(name, `  writeChannel(${bytes})\n  await new Promise(() => {})`),
      }),
      // Without the wall the host Vitest process dies: no file of the run gets a result.
      escaped: (evidence) => evidence.statuses?.get('test/z-bystander.test.ts > passes') !== 'passed',
    }),
  ),
  {
    name: 'c04-oversized-frame',
    what: 'a 96 MiB frame (well-formed: the run goes on), for the host to buffer whole',
    control: 'wall-off',
    alone: true,
    files: () => ({
      'test/c04-oversized-frame.test.ts': attackTest(
        'c04-oversized-frame',
        `  writeChannel(frame({ t: 'ipc', id: 1, bytes: serialize('x'.repeat(${OVERSIZED_FRAME_MIB} << 20)) }), { resume: true })`,
        "import { serialize } from 'node:v8'\n",
      ),
    }),
    // The host took the frame in (and the run went on) rather than stopping the guest at its header.
    escaped: (evidence) =>
      !evidence.files.get('test/c04-oversized-frame.test.ts')?.message.includes('UML_GUEST_PROTOCOL'),
  },
]
