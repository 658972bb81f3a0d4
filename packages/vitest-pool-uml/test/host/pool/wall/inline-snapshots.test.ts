import { describe, expect, it } from 'vitest'
import { checkInlineSnapshotRewrite } from '../../../../src/host/pool/wall/inline-snapshots.js'

const before = `import { expect, it } from 'vitest'

it('a', () => {
  expect(1).toMatchInlineSnapshot()
  expect({ at: new Date() }).toMatchInlineSnapshot({ at: expect.any(Date) })
  expect(() => boom()).toThrowErrorMatchingInlineSnapshot(\`"old"\`)
})
`

describe('checkInlineSnapshotRewrite', () => {
  it('accepts what Vitest writes: filled snapshots, and with -u replaced ones', () => {
    const after = before
      .replace('toMatchInlineSnapshot()', 'toMatchInlineSnapshot(`1`)')
      .replace('{ at: expect.any(Date) })', '{ at: expect.any(Date) }, `{ "at": Any<Date> }`)')
      .replace('`"old"`', '`"new"`')
    expect(checkInlineSnapshotRewrite('a.test.ts', before, after, true)).toBeUndefined()
    expect(checkInlineSnapshotRewrite('a.test.ts', before, before, false)).toBeUndefined()
  })

  it('lets only empty snapshots be filled without -u', () => {
    const filled = before.replace('toMatchInlineSnapshot()', 'toMatchInlineSnapshot(`1`)')
    expect(checkInlineSnapshotRewrite('a.test.ts', before, filled, false)).toBeUndefined()
    const replaced = before.replace('`"old"`', '`"new"`')
    expect(checkInlineSnapshotRewrite('a.test.ts', before, replaced, false)).toMatch(/needs -u/)
  })

  it('refuses code around the snapshots, substitutions inside them, and text that is not a snapshot', () => {
    const code = before.replace("it('a'", "import('node:child_process')\nit('a'")
    expect(checkInlineSnapshotRewrite('a.test.ts', before, code, true)).toMatch(/more than inline snapshot arguments/)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text under test holds a substitution
    const substitution = before.replace('toMatchInlineSnapshot()', 'toMatchInlineSnapshot(`${process.exit()}`)')
    expect(checkInlineSnapshotRewrite('a.test.ts', before, substitution, true)).toBeDefined()
    const closing = before.replace('toMatchInlineSnapshot()', 'toMatchInlineSnapshot(`1`); evil(`x`)')
    expect(checkInlineSnapshotRewrite('a.test.ts', before, closing, true)).toBeDefined()
  })

  it('finds snapshots by parsing, not by searching: one named in a comment or string is not a slot', () => {
    const tricky = `// toMatchInlineSnapshot("
run()
// ")
const text = 'toMatchInlineSnapshot(\`x\`)'
`
    const rewritten = tricky.replace('"\nrun()\n// "', '`rewritten`')
    expect(checkInlineSnapshotRewrite('a.test.ts', tricky, rewritten, true)).toBeDefined()
    expect(checkInlineSnapshotRewrite('a.test.ts', tricky, tricky.replace('`x`', '`y`'), true)).toBeDefined()
  })

  it('reads TypeScript and TSX test files (the parser is the pool’s own: Vite 7’s reads JavaScript alone)', () => {
    const typed = `import type { Shape } from './shape'
import { expect, it } from 'vitest'

it('a', () => {
  const value: Shape = { n: 1 } as Shape
  const id = <T,>(x: T): T => x
  expect(id(value) satisfies Shape).toMatchInlineSnapshot()
})
`
    const filled = typed.replace('toMatchInlineSnapshot()', 'toMatchInlineSnapshot(`{ "n": 1 }`)')
    expect(checkInlineSnapshotRewrite('a.test.ts', typed, filled, false)).toBeUndefined()
    expect(checkInlineSnapshotRewrite('a.test.ts', typed, filled.replace('as Shape', 'as never'), false)).toMatch(
      /more than inline snapshot arguments/,
    )
    const tsx = 'const view: JSX.Element = <b>{1}</b>\nexpect(view).toMatchInlineSnapshot()\n'
    const tsxFilled = tsx.replace('toMatchInlineSnapshot()', 'toMatchInlineSnapshot(`<b>1</b>`)')
    expect(checkInlineSnapshotRewrite('a.test.tsx', tsx, tsxFilled, false)).toBeUndefined()
  })

  it('refuses a rewrite of a test file that does not parse', () => {
    expect(checkInlineSnapshotRewrite('a.test.ts', 'it(', 'it(', true)).toMatch(/does not parse/)
  })
})
