import { expect, it } from 'vitest'
import { checkSnapFileAddsOnly, parseSnapFile } from '../../../../src/host/pool/wall/snap-file.js'

const snap = `// Vitest Snapshot v1, https://vitest.dev/guide/snapshot.html

exports[\`a 1\`] = \`"one"\`;

exports[\`b \\\`quoted\\\` 1\`] = \`
{
  "x": 1,
}
\`;
`

it('reads a .snap file without evaluating it', () => {
  expect(parseSnapFile(snap)).toEqual(
    new Map([
      ['`a 1`', '`"one"`'],
      ['`b \\`quoted\\` 1`', '`\n{\n  "x": 1,\n}\n`'],
    ]),
  )
  expect(parseSnapFile(`${snap}\nrequire('child_process').execSync('id')\n`)).toBeUndefined()
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text under test holds a substitution
  expect(parseSnapFile('exports[`a`] = `${process.exit()}`;')).toBeUndefined()
})

it('lets a rewrite add snapshots, but not change or remove one, without -u', () => {
  const added = `${snap}\nexports[\`c 1\`] = \`3\`;\n`
  expect(checkSnapFileAddsOnly(snap, added)).toBeUndefined()
  expect(checkSnapFileAddsOnly(snap, snap.replace('"one"', '"two"'))).toMatch(/changes the snapshot `a 1`/)
  expect(checkSnapFileAddsOnly(snap, snap.replace('exports[`a 1`] = `"one"`;', ''))).toMatch(
    /removes the snapshot `a 1`/,
  )
  expect(checkSnapFileAddsOnly(snap, 'module.exports = 1')).toMatch(/not a snapshot file/)
})
