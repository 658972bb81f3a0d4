import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { WALL_OFF_VARIABLE } from '../../../../src/host/core/index.js'
import { loadVitestRuntime, projectVitest, type VitestRuntime } from '../../../../src/host/pool/vitest-internals.js'
import { HIDDEN_FILE_PREFIX } from '../../../../src/host/pool/wall/guest-errors.js'
import { GuestWall } from '../../../../src/host/pool/wall/guest-wall.js'
import { MAX_CONSOLE_CHARS_PER_FILE } from '../../../../src/host/pool/wall/worker-rpc.js'
import { hostFilesFixture } from './fake-host-files.js'

let fixture: Awaited<ReturnType<typeof hostFilesFixture>>
let runtime: VitestRuntime
/** The same Vitest taken for 4.0, whose worker calls fewer host methods. */
let runtime40: VitestRuntime
beforeAll(async () => {
  fixture = await hostFilesFixture()
  const vitest = projectVitest(fileURLToPath(new URL('../../../..', import.meta.url)))
  runtime = await loadVitestRuntime(vitest)
  runtime40 = await loadVitestRuntime({ ...vitest, minor: '4.0' })
})
afterAll(async () => {
  const { rm } = await import('node:fs/promises')
  await rm(fixture.base, { recursive: true })
})

/** A wall for a worker of a project named `p` that was given test/a.test.ts. */
function wallFor(options: { bail?: number; runtime?: VitestRuntime } = {}) {
  const project = {
    name: 'p',
    config: { root: fixture.root },
    vite: { environments: { ssr: {} } },
    vitest: { config: { bail: options.bail ?? 0 }, state: { idMap: new Map() } },
  }
  const wall = new GuestWall({
    project,
    files: fixture.files,
    runtime: options.runtime ?? runtime,
    snapshots: {},
  } as never)
  wall.admitFiles([testFile()])
  return wall
}
const testFile = () => `${fixture.root}/test/a.test.ts`
const fileId = () => runtime.createFileTask(testFile(), fixture.root, 'p', 'uml').id
const call = (m: string, a: unknown[], i = 'id-1') => ({ t: 'q', m, a, i })

describe('the wall between a guest’s Vitest worker and the host', () => {
  it('lets a worker’s own calls through', () => {
    const wall = wallFor()
    for (const message of [
      call('fetch', ['/src/index.ts', testFile(), 'ssr']),
      call('onTaskUpdate', [[[`${fileId()}_0`, { state: 'pass' }, {}]], [[fileId(), 'suite-finished', undefined]]]),
      call('onUserConsoleLog', [{ content: 'hi', type: 'stdout', taskId: `${fileId()}_0`, time: 1 }]),
      call('resolveSnapshotPath', [testFile()]),
      { __vitest_worker_response__: true, type: 'testfileFinished' },
    ]) {
      expect(wall.inbound(message)).toEqual({ to: 'vitest', message })
    }
  })

  it('refuses a module outside the allowed directories, answering the guest itself', () => {
    const verdict = wallFor().inbound(call('fetch', [`/@fs${fixture.base}/outside/secret.txt?raw`, undefined, 'ssr']))
    expect(verdict.to).toBe('guest')
    const answer = (verdict as { message: { e: Error & { code: string } } }).message
    expect(answer.e.code).toBe('UML_HOST_ACCESS_DENIED')
    expect(answer.e.message).toMatch(/server\.fs\.allow/)
  })

  it.each([
    ['a method that is not Vitest’s', () => call('constructor', [])],
    ['the vm pools’ transform', () => call('transform', ['/x'])],
    ['arguments that are not a list', () => ({ t: 'q', m: 'fetch', a: 'x', i: '1' })],
    ['another file’s tasks', () => call('onTaskUpdate', [[['-123_0', { state: 'pass' }, {}]], []])],
    ['another file’s snapshot path', () => call('resolveSnapshotPath', [`${fixture.root}/test/b.test.ts`])],
    ['a Vite environment that does not exist', () => call('fetch', ['/src/index.ts', undefined, '__proto__'])],
    ['a __proto__ key', () => JSON.parse('{"t":"q","m":"getCountOfFailedTests","a":[{"__proto__":{"polluted":1}}]}')],
    [
      'coverage of another project',
      () => call('onAfterSuiteRun', [{ coverage: null, environment: 'ssr', projectName: 'q', testFiles: [] }]),
    ],
    ['a worker response of no known type', () => ({ __vitest_worker_response__: true, type: 'pwned' })],
    ['something that is no message at all', () => 42],
  ])('takes %s for a protocol violation', (_, message) => {
    expect(() => wallFor().inbound(message())).toThrow(expect.objectContaining({ code: 'UML_GUEST_PROTOCOL' }))
  })

  it('takes the calls only Vitest 4.1’s worker makes for protocol violations from a 4.0 worker', () => {
    const calls = [
      call('ensureModuleGraphEntry', [`${fixture.root}/src/index.ts`, testFile()]),
      call('onAsyncLeaks', [[{ stack: 'Error\n    at x', projectName: 'p' }]]),
    ]
    for (const message of calls) {
      expect(wallFor().inbound(message).to).toBe('vitest')
      expect(() => wallFor({ runtime: runtime40 }).inbound(message)).toThrow(
        expect.objectContaining({ code: 'UML_GUEST_PROTOCOL' }),
      )
    }
    const log = call('onUserConsoleLog', [{ content: 'hi', type: 'stdout', time: 1 }])
    expect(wallFor({ runtime: runtime40 }).inbound(log).to).toBe('vitest')
  })

  it('lets no update change a file whose run has ended (a later file of a worker that runs several), until it runs again', () => {
    const wall = wallFor()
    const update = () => call('onTaskUpdate', [[[`${fileId()}_0`, { state: 'skip' }, {}]], []])
    // A file-level beforeAll that fails makes the file's state `fail` mid-run: its tests come after.
    const failedEarly = call('onTaskUpdate', [[[fileId(), { state: 'fail' }, {}]], [[fileId(), 'before-hook-start']]])
    for (const message of [failedEarly, update()]) expect(wall.inbound(message).to).toBe('vitest')
    // Only the file's own task ends it, not a suite's in it.
    wall.inbound(call('onTaskUpdate', [[], [[`${fileId()}_1`, 'suite-finished']]]))
    expect(wall.hasEnded(testFile())).toBe(false)
    wall.inbound(call('onTaskUpdate', [[], [[fileId(), 'suite-finished']]]))
    expect(wall.hasEnded(testFile())).toBe(true)
    expect(() => wall.inbound(update())).toThrow(expect.objectContaining({ code: 'UML_GUEST_PROTOCOL' }))
    wall.admitFiles([testFile()])
    expect(wall.inbound(update()).to).toBe('vitest')
  })

  it('keeps coverage of the project’s own files only, not of a sibling whose name starts with the root', () => {
    const script = (path: string) => ({ url: `file://${path}`, functions: [] })
    const meta = {
      coverage: { result: [script(`${fixture.root}/src/index.ts`), script(`${fixture.ws}/app-secrets/secret.js`)] },
      environment: 'ssr',
      projectName: 'p',
      testFiles: ['test/a.test.ts'],
    }
    const verdict = wallFor().inbound(call('onAfterSuiteRun', [meta]))
    const forwarded = (verdict as { message: { a: [typeof meta] } }).message.a[0]
    expect(forwarded.coverage.result.map((entry) => entry.url)).toEqual([`file://${fixture.root}/src/index.ts`])
  })

  it('refuses attachments by host path, cancels without --bail, and console output past its budget', () => {
    const wall = wallFor()
    const attach = wall.inbound(
      call('onTaskArtifactRecord', [`${fileId()}_0`, { type: 'x', attachments: [{ path: '/etc/shadow' }] }]),
    )
    expect((attach as { message: { e: { code: string } } }).message.e.code).toBe('UML_HOST_ACCESS_DENIED')
    expect(wall.inbound(call('onCancel', ['keyboard-input'])).to).toBe('guest')
    expect(wallFor({ bail: 1 }).inbound(call('onCancel', ['test-failure'])).to).toBe('vitest')
    const big = 'x'.repeat(MAX_CONSOLE_CHARS_PER_FILE / 2 + 1)
    const log = (i: string) => call('onUserConsoleLog', [{ content: big, type: 'stdout', time: 1 }], i)
    expect(wall.inbound(log('1')).to).toBe('vitest')
    const cut = wall.inbound(log('2')) as { message: { a: [{ content: string }] } }
    expect(cut.message.a[0].content).toMatch(/the rest is dropped/)
    expect(wall.inbound(log('3'))).toEqual({ to: 'guest', message: { t: 's', i: '3', r: undefined } })
  })

  it('hides host files from the stacks Vitest would print as code frames', () => {
    const error = {
      message: 'boom',
      stack: `Error: boom\n    at f (${fixture.base}/outside/secret.txt:1:1)\n    at g (${fixture.root}/src/index.ts:2:3)`,
      stacks: [{ file: '/etc/shadow', line: 1, column: 1 }],
    }
    const verdict = wallFor().inbound(call('onUnhandledError', [error, 'Unhandled Rejection']))
    const [sanitized] = (verdict as { message: { a: [typeof error] } }).message.a
    expect(sanitized.stacks).toBeUndefined()
    expect(sanitized.stack).toContain(`(${HIDDEN_FILE_PREFIX}${fixture.base}/outside/secret.txt:1:1)`)
    expect(sanitized.stack).toContain(`(${fixture.root}/src/index.ts:2:3)`)
  })

  it('checks the host’s answers to module fetches before the guest has them', () => {
    const wall = wallFor()
    wall.inbound(call('fetch', ['virtual:x', undefined, 'ssr'], 'outside'))
    const outside = wall.outbound({
      t: 's',
      i: 'outside',
      r: { code: 'x', file: `${fixture.base}/outside/secret.txt` },
    })
    expect((outside as { e: { code: string } }).e.code).toBe('UML_HOST_ACCESS_DENIED')
    const map = Buffer.from(
      JSON.stringify({
        version: 3,
        sources: [`${fixture.base}/outside/secret.txt`],
        sourcesContent: ['secret'],
        mappings: '',
      }),
    ).toString('base64')
    wall.inbound(call('fetch', ['/src/index.ts', undefined, 'ssr'], 'mapped'))
    const code = `export {}\n//# sourceMappingURL=data:application/json;base64,${map}\n`
    const mapped = wall.outbound({ t: 's', i: 'mapped', r: { code, file: `${fixture.root}/src/index.ts` } })
    expect((mapped as { e: { message: string } }).e.message).toMatch(/source map/)
    wall.inbound(call('fetch', ['/src/index.ts', undefined, 'ssr'], 'fine'))
    const fine = { t: 's', i: 'fine', r: { code: 'export {}', file: `${fixture.root}/src/index.ts` } }
    expect(wall.outbound(fine)).toBe(fine)
  })

  it('lets everything through with the wall switched off (the escape suite’s control)', () => {
    vi.stubEnv(WALL_OFF_VARIABLE, '1')
    try {
      const message = call('constructor', [])
      expect(wallFor().inbound(message)).toEqual({ to: 'vitest', message })
    } finally {
      vi.unstubAllEnvs()
    }
  })
})
