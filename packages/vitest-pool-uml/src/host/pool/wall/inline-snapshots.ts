import { type AstNode, parseModule, walk } from './module-ast.js'
import { templateLiteralEnd } from './template-literal.js'

const INLINE_SNAPSHOT_MATCHERS = new Set(['toMatchInlineSnapshot', 'toThrowErrorMatchingInlineSnapshot'])

/** Where a rewrite may put a snapshot: the literal argument of one inline snapshot call. */
interface SnapshotSlot {
  start: number
  end: number
  /** `toMatchInlineSnapshot({ ... })`: the snapshot goes after the property matcher, as `, \`...\``. */
  afterMatcher: boolean
}

/**
 * Checks a test file rewritten by a guest for its inline snapshots: the new text must be the old
 * one with nothing changed but the snapshot arguments of `toMatchInlineSnapshot` and
 * `toThrowErrorMatchingInlineSnapshot` calls (found by parsing the old text, not by searching it),
 * each new one a template literal without substitutions, so it can hold only a string. Unless
 * `updateExisting`, only empty snapshots may be filled. Returns what is wrong, or undefined.
 */
export function checkInlineSnapshotRewrite(
  file: string,
  oldCode: string,
  newCode: string,
  updateExisting: boolean,
): string | undefined {
  let slots: SnapshotSlot[]
  try {
    slots = snapshotSlots(oldCode, file)
  } catch (error) {
    return `the test file on the host does not parse (${(error as Error).message})`
  }
  let oldAt = 0
  let newAt = 0
  for (const slot of slots) {
    const between = oldCode.slice(oldAt, slot.start)
    if (!newCode.startsWith(between, newAt)) return 'it changes more than inline snapshot arguments'
    newAt += between.length
    const original = oldCode.slice(slot.start, slot.end)
    const replacementEnd = slotReplacementEnd(newCode, newAt, slot)
    if (replacementEnd !== undefined && newCode.slice(newAt, replacementEnd) !== original) {
      if (original !== '' && !updateExisting) return 'it changes an existing inline snapshot, which needs -u'
      newAt = replacementEnd
    } else if (newCode.startsWith(original, newAt)) {
      newAt += original.length
    } else {
      return 'an inline snapshot argument is not a plain template literal'
    }
    oldAt = slot.end
  }
  return newCode.slice(newAt) === oldCode.slice(oldAt) ? undefined : 'it changes more than inline snapshot arguments'
}

/** The end of what a rewrite put into a slot, if what stands at `at` is a snapshot literal. */
function slotReplacementEnd(code: string, at: number, slot: SnapshotSlot): number | undefined {
  if (!slot.afterMatcher) return templateLiteralEnd(code, at)
  return code.startsWith(', ', at) ? templateLiteralEnd(code, at + 2) : undefined
}

function snapshotSlots(code: string, file: string): SnapshotSlot[] {
  const slots: SnapshotSlot[] = []
  walk(parseModule(code, file), (node) => {
    if (node.type !== 'CallExpression') return
    const callee = node.callee as AstNode
    const property = callee.type === 'MemberExpression' ? (callee.property as AstNode & { name?: string }) : undefined
    if (!property?.name || !INLINE_SNAPSHOT_MATCHERS.has(property.name)) return
    const args = node.arguments as AstNode[]
    const closingParen = code.lastIndexOf(')', node.end - 1)
    const last = args.at(-1)
    if (!last) slots.push({ start: closingParen, end: closingParen, afterMatcher: false })
    else if (isStringLiteral(last)) slots.push({ start: last.start, end: last.end, afterMatcher: false })
    else if (args.length === 1 && last.type === 'ObjectExpression') {
      slots.push({ start: last.end, end: last.end, afterMatcher: true })
    }
  })
  return slots.sort((a, b) => a.start - b.start)
}

function isStringLiteral(node: AstNode): boolean {
  if (node.type === 'Literal') return typeof node.value === 'string'
  return node.type === 'TemplateLiteral' && (node.expressions as unknown[]).length === 0
}
