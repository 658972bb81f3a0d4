import { describe, expect, it } from 'vitest'
import { type LayerEntry, type LayerPlan, planLayers } from '../../../src/host/images/oci/layer-plan.js'

/** A layer entry with content: files are `name=content`, dirs end with `/`, `name -> target` symlinks, `name => target` hard links. */
type Spec = string

function toEntry(spec: Spec): LayerEntry & { content?: string } {
  if (spec.includes(' => ')) {
    const [name, linkname] = spec.split(' => ') as [string, string]
    return { name, type: 'link', linkname }
  }
  if (spec.includes(' -> ')) {
    const [name, linkname] = spec.split(' -> ') as [string, string]
    return { name, type: 'symlink', linkname }
  }
  if (spec.endsWith('/')) return { name: spec.slice(0, -1), type: 'directory' }
  if (spec.startsWith('dev:')) return { name: spec.slice(4), type: 'other' }
  const [name, content = ''] = spec.split('=') as [string, string?]
  return { name, type: 'file', content }
}

/**
 * Extracts the flattened stream the way tar does: entries in layer order, each replacing what is
 * at its path, hard links sharing the file they name. Returns every path with what it holds.
 */
function extract(layers: Spec[][], plan: LayerPlan): Record<string, string> {
  const tree = new Map<string, { kind: string; content?: { value: string } }>()
  layers.forEach((specs, layer) => {
    specs.forEach((spec, index) => {
      const action = plan.emit[layer]!.get(index)
      if (!action) return
      const entry = toEntry(spec)
      if (entry.type === 'link' || action.linkname) {
        const target = tree.get(action.linkname!)
        if (!target) throw new Error(`hard link ${action.name} to ${action.linkname}, which is not there yet`)
        tree.set(action.name, target)
        return
      }
      if (entry.type === 'directory') {
        if (tree.get(action.name)?.kind !== 'dir') tree.set(action.name, { kind: 'dir' })
        return
      }
      tree.set(
        action.name,
        entry.type === 'symlink'
          ? { kind: 'symlink', content: { value: `-> ${entry.linkname}` } }
          : { kind: 'file', content: { value: entry.content ?? '' } },
      )
    })
  })
  return Object.fromEntries(
    [...tree].map(([path, node]) => [path, node.kind === 'dir' ? '/' : node.content!.value]).sort(),
  )
}

function flatten(...layers: Spec[][]): { tree: Record<string, string>; problems: string[] } {
  const plan = planLayers(layers.map((specs) => specs.map(toEntry)))
  return { tree: extract(layers, plan), problems: plan.problems }
}

describe('planLayers', () => {
  it('lets upper layers replace files and keeps what they do not touch', () => {
    const { tree, problems } = flatten(['etc/', 'etc/a=1', 'etc/b=1'], ['etc/', 'etc/b=2', 'etc/c=2'])
    expect(problems).toEqual([])
    expect(tree).toEqual({ etc: '/', 'etc/a': '1', 'etc/b': '2', 'etc/c': '2' })
  })

  it('removes a lower file, or a whole lower directory, for a whiteout', () => {
    const { tree } = flatten(['etc/', 'etc/a=1', 'etc/b=1', 'opt/', 'opt/x/', 'opt/x/y=1'], ['etc/.wh.a', '.wh.opt'])
    expect(tree).toEqual({ etc: '/', 'etc/b': '1' })
  })

  it('applies a whiteout only to lower layers, whatever its place in the layer', () => {
    const { tree } = flatten(['a=1'], ['a=2', '.wh.a'])
    expect(tree).toEqual({ a: '2' })
  })

  it('empties a directory of its lower children for an opaque marker, keeping the layer own', () => {
    const { tree } = flatten(
      ['a/', 'a/b/', 'a/b/c/', 'a/b/c/bar=1', 'a/keep=1'],
      ['a/', 'a/b/', 'a/b/c/', 'a/b/c/foo=2', 'a/.wh..wh..opq'],
    )
    expect(tree).toEqual({ a: '/', 'a/b': '/', 'a/b/c': '/', 'a/b/c/foo': '2' })
  })

  it('drops the children of a directory that a file replaces, and a file that a directory replaces', () => {
    const { tree } = flatten(['d/', 'd/x=1', 'f=1'], ['d=file', 'f/', 'f/y=2'])
    expect(tree).toEqual({ d: 'file', f: '/', 'f/y': '2' })
  })

  it('keeps hard links within a layer and across layers', () => {
    const { tree } = flatten(['bin/', 'bin/tool=v1', 'bin/alias => bin/tool'], ['bin/other => bin/tool'])
    expect(tree).toEqual({ bin: '/', 'bin/alias': 'v1', 'bin/other': 'v1', 'bin/tool': 'v1' })
  })

  it('keeps the old content for a hard link whose file a later layer replaced or removed', () => {
    expect(flatten(['a=old', 'b => a'], ['a=new']).tree).toEqual({ a: 'new', b: 'old' })
    expect(flatten(['a=old'], ['b => a', 'c => a'], ['.wh.a']).tree).toEqual({ b: 'old', c: 'old' })
    expect(flatten(['a=old', 'b => a'], ['c => b'], ['.wh.a', '.wh.b']).tree).toEqual({ c: 'old' })
  })

  it('applies entries below a symlink inside the root, never through it', () => {
    const { tree } = flatten(
      ['run/', 'var/', 'var/run -> /run', 'lib -> usr/lib', 'usr/', 'usr/lib/'],
      ['var/run/pid=1', 'lib/x=2'],
    )
    expect(tree).toEqual({
      lib: '-> usr/lib',
      run: '/',
      'run/pid': '1',
      usr: '/',
      'usr/lib': '/',
      'usr/lib/x': '2',
      var: '/',
      'var/run': '-> /run',
    })
  })

  it('reports entries that leave the root, hard links to nothing, and entries inside files', () => {
    const { problems } = flatten(['a=1', '../escape=1', 'b => missing'], ['a/x=2'])
    expect(problems).toEqual([
      'layer 1: "../escape" points outside the root file system',
      'layer 1: "b" is a hard link to "missing", which is not a file of the image',
      'layer 2: "a/x" is inside something that is not a directory',
    ])
  })

  it('leaves device nodes out, and hard links to them', () => {
    expect(flatten(['dev/', 'dev:dev/null', 'dev/also => dev/null', 'x=1']).tree).toEqual({ dev: '/', x: '1' })
  })
})
