import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { HostFiles } from './host-files.js'
import { type AstNode, parseModule, walk } from './module-ast.js'

/** Characters after which a glob pattern stops naming a fixed directory. */
const GLOB_MAGIC = /[*?[\]{}()!+@]/

/**
 * True when an `import.meta.glob` in a module reaches out of the directories the guest may load
 * from. Vite expands globs on the host and puts what matched into the module, names only even when
 * the module uses just the keys, so the patterns themselves are judged: each one's fixed directory
 * (before its first wildcard, after aliases) must be allowed, and no `..` may follow a wildcard.
 */
export function importGlobReachesOut(file: string, files: HostFiles): boolean {
  let source: string
  try {
    source = readFileSync(file, 'utf8')
  } catch {
    return true
  }
  if (!source.includes('import.meta.glob')) return false
  let patterns: string[] | undefined
  try {
    patterns = globPatterns(parseModule(source, file))
  } catch {
    return true
  }
  return patterns === undefined || patterns.some((pattern) => !globStaysIn(pattern, file, files))
}

/** The literal patterns of every `import.meta.glob(...)` call; undefined if one is not a literal. */
function globPatterns(ast: AstNode): string[] | undefined {
  const patterns: string[] = []
  let literal = true
  walk(ast, (node) => {
    if (node.type !== 'CallExpression' || !isImportMetaGlob(node.callee as AstNode)) return
    const [first] = node.arguments as AstNode[]
    const items = first?.type === 'ArrayExpression' ? (first.elements as AstNode[]) : [first]
    for (const item of items) {
      if (item?.type === 'Literal' && typeof item.value === 'string') patterns.push(item.value)
      else literal = false
    }
  })
  return literal ? patterns : undefined
}

function globStaysIn(rawPattern: string, importer: string, files: HostFiles): boolean {
  const pattern = files.applyAlias(rawPattern.replace(/^!/, ''))
  const magicAt = pattern.search(GLOB_MAGIC)
  const fixed = magicAt === -1 ? pattern : pattern.slice(0, pattern.lastIndexOf('/', magicAt) + 1)
  const rest = magicAt === -1 ? '' : pattern.slice(fixed.length)
  if (rest.split('/').includes('..')) return false
  // Vite reads `/...` under the root, `./` and `../` from the importer; other patterns it refuses.
  let dir: string
  if (fixed.startsWith('./') || fixed.startsWith('../')) dir = resolve(dirname(importer), fixed)
  else if (fixed.startsWith('/')) dir = join(files.root, fixed)
  else return false
  return files.allows(dir)
}

function isImportMetaGlob(callee: AstNode): boolean {
  const object = callee.object as AstNode | undefined
  const property = callee.property as (AstNode & { name?: string }) | undefined
  return (
    callee.type === 'MemberExpression' &&
    property?.name === 'glob' &&
    object?.type === 'MetaProperty' &&
    (object.property as { name?: string }).name === 'meta'
  )
}
