import { expect, it } from 'vitest'
import { templateLiteralEnd } from '../../../../src/host/pool/wall/template-literal.js'

it('finds the end of a template literal without substitutions, escapes included', () => {
  expect(templateLiteralEnd('`a\\`b` rest', 0)).toBe(6)
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text under test holds a substitution
  expect(templateLiteralEnd('`a\\${b}` rest', 0)).toBe(8)
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the text under test holds a substitution
  expect(templateLiteralEnd('`a${b}`', 0)).toBeUndefined()
  expect(templateLiteralEnd('`never closed', 0)).toBeUndefined()
  expect(templateLiteralEnd('"not one"', 0)).toBeUndefined()
})
