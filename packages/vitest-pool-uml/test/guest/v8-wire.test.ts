import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serialize } from 'node:v8'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FrameDecoder } from '../../src/shared/index.js'

const HARNESS = fileURLToPath(new URL('./v8-wire-harness.c', import.meta.url))
let dir: string
let harness: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'v8-wire-'))
  harness = join(dir, 'harness')
  // The header's accessors the harness has no use for are fine unused.
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-Wno-unused-function', '-o', harness, HARNESS])
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** What the harness prints for a value: JSON, with bytes in hex and undefined marked. */
function printed(value: unknown): unknown {
  if (value === undefined) return { undefined: true }
  if (ArrayBuffer.isView(value))
    return { bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex') }
  if (Array.isArray(value)) return Array.from(value, printed)
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printed(v)]))
  return value
}

const decode = (payload: Buffer) => {
  const out = execFileSync(harness, ['decode'], { input: payload }).toString()
  return out === 'refused' ? out : JSON.parse(out)
}

describe('v8-wire.h, the agent’s reader and writer of frames', () => {
  it.each([
    [
      'a host message',
      { t: 'exec', id: 7, argv: ['sh', '-c', 'echo é €'], env: { A: 'b' }, session: true, cwd: undefined },
    ],
    ['strings of every width', { latin1: 'café', twoByte: '€ and 😀', empty: '', ascii: 'x'.repeat(300) }],
    ['numbers', { smi: -123456, big: 2 ** 40, fraction: 1.5, zero: 0 }],
    ['nesting', { shares: [{ source: '/s', target: '/t', writable: false, copyOnWrite: true }], none: null }],
    ['Node’s typed arrays', { bytes: Buffer.from([0, 1, 255]), view: new Uint8Array([9]) }],
    ['an array with a hole', { list: Object.assign(new Array(3), { 0: 'a', 2: 'c' }) }],
  ])('reads %s as V8 wrote it', (_, value) => {
    expect(decode(serialize(value))).toEqual(printed(value))
  })

  it('reads an array V8 writes as sparse (one that grew element by element)', () => {
    const argv: string[] = []
    argv[2] = 'x'
    argv[0] = 'sh'
    argv[1] = '-c'
    expect(serialize({ argv })[5]).not.toBe(0x41)
    expect(decode(serialize({ argv }))).toEqual({ argv: ['sh', '-c', 'x'] })
  })

  it.each([
    ['a date', serialize({ at: new Date(0) })],
    [
      'a back-reference',
      serialize(
        (() => {
          const shared = {}
          return { a: shared, b: shared }
        })(),
      ),
    ],
    ['a truncated frame', serialize({ t: 'hello' }).subarray(0, 6)],
    ['a string longer than the frame', Buffer.from([0xff, 0x0f, 0x22, 0x7f, 0x61])],
    ['nesting past the depth limit', serialize(JSON.parse('['.repeat(100) + ']'.repeat(100)))],
  ])('refuses %s', (_, payload) => {
    expect(decode(payload)).toBe('refused')
  })

  it('writes frames the host decodes', () => {
    const frame = execFileSync(harness, ['encode'])
    expect(new FrameDecoder().push(frame)).toEqual([
      { ascii: 'hello', utf8: 'é€', small: -5, large: 2147483647, none: null, bytes: Buffer.from([0, 1, 255]) },
    ])
  })
})
