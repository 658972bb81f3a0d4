import { createRequire } from 'node:module'
import { extname } from 'node:path'
import type { ParserPlugin } from '@babel/parser'

/**
 * @babel/parser, loaded at the first parse (it takes ~90 ms): only a module with an
 * `import.meta.glob` or an inline snapshot's rewrite needs one, so most runs never load it.
 */
let babel: typeof import('@babel/parser') | undefined
const require = createRequire(import.meta.url)

export interface AstNode {
  type: string
  start: number
  end: number
  [key: string]: unknown
}

/**
 * A module's syntax tree (ESTree), parsed as its extension says (TypeScript and JSX included).
 * The pool's own parser, not Vite's `parseAst`: that one parses TypeScript only from Vite 8 on, and
 * Vitest 4.0 comes with Vite 7 (as 4.1 may), whose parser reads JavaScript alone.
 */
export function parseModule(code: string, file: string): AstNode {
  babel ??= require('@babel/parser') as typeof import('@babel/parser')
  return babel.parse(code, { sourceType: 'module', plugins: ['estree', ...syntaxOf(file)] })
    .program as unknown as AstNode
}

/** Visits every node of a syntax tree, parents first. */
export function walk(node: unknown, visit: (node: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit)
    return
  }
  if (typeof node !== 'object' || node === null || typeof (node as AstNode).type !== 'string') return
  visit(node as AstNode)
  for (const value of Object.values(node)) if (typeof value === 'object') walk(value, visit)
}

function syntaxOf(file: string): ParserPlugin[] {
  switch (extname(file).replace(/^\.[cm]?/, '')) {
    case 'ts':
      return ['typescript', 'decorators-legacy']
    case 'tsx':
      return ['typescript', 'decorators-legacy', 'jsx']
    case 'jsx':
      return ['jsx']
    default:
      return []
  }
}
