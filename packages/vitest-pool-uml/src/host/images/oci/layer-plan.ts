import { normalizeArchivePath } from '../rootfs-index.js'

/** What a layer's tar header says about one entry, as the planner needs it. */
export interface LayerEntry {
  name: string
  /** `other`: device nodes and what tar cannot restore, left out (the guest's /dev is a devtmpfs). */
  type: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'other'
  /** Target of a symlink, or the archive path a hard link points at. */
  linkname?: string
}

/** How to write one layer entry into the flattened root file system tarball. */
export interface EmitAction {
  /** The path it gets (normalized, no leading `./`). */
  name: string
  /** For a hard link: the path of the file it links to, as written earlier in the flattened tarball. */
  linkname?: string
}

export interface LayerPlan {
  /** Per layer, by entry number: the entries to write; every other entry is left out. */
  emit: Map<number, EmitAction>[]
  /** Entries that cannot be applied; the image is unusable when there are any. */
  problems: string[]
}

interface Node {
  kind: LayerEntry['type']
  path: string
  parent: Node | undefined
  /** The entry this node comes from (`<layer>:<entry>`); none for a directory a path implied. */
  source?: string
  children?: Map<string, Node>
  symlinkTarget?: string
  /** For a hard link: the entry holding the file's content. */
  provider?: string
}

const WHITEOUT_PREFIX = '.wh.'
const OPAQUE_MARKER = '.wh..wh..opq'
const MAX_SYMLINKS = 40

/**
 * Works out how to flatten image layers into one tarball whose plain extraction gives the image's
 * root file system (OCI image-spec, "Applying Changesets"): layers apply in order; a whiteout
 * `.wh.<name>` removes `<name>` and an opaque marker the children of its directory, both from
 * lower layers only and before the layer's own entries; an entry replaces what was at its path,
 * except that a directory over a directory only takes over its attributes. Paths go through
 * symlinks already in the tree, as an applier confined to the root would, so every written path
 * has real directories above it and extraction never follows a symlink.
 *
 * Entries are written in layer order, each at most once, under its final path. A hard link keeps
 * the content of the file it pointed at when it was made: when that file is gone from the final
 * tree (removed or replaced by a later layer), its content is written under the first surviving
 * link's path instead, and the other links point there.
 */
export function planLayers(layers: LayerEntry[][]): LayerPlan {
  const root: Node = { kind: 'directory', path: '', parent: undefined, children: new Map() }
  const nodes = new Map<string, Node>()
  const problems: string[] = []

  const walkDir = (parts: string[], create: boolean): Node | undefined => {
    let dir = root
    for (const part of parts) {
      let child: Node | undefined = dir.children!.get(part)
      if (!child) {
        if (!create) return undefined
        child = { kind: 'directory', path: joinPath(dir.path, part), parent: dir, children: new Map() }
        dir.children!.set(part, child)
      } else if (child.kind === 'symlink') {
        child = followSymlink(child, create)
        if (!child) return undefined
      }
      if (child.kind !== 'directory') return undefined
      dir = child
    }
    return dir
  }

  const followSymlink = (link: Node, create: boolean, depth = 0): Node | undefined => {
    if (depth > MAX_SYMLINKS) return undefined
    const target = link.symlinkTarget ?? ''
    let dir: Node = target.startsWith('/') ? root : link.parent!
    for (const part of target.split('/')) {
      if (part === '' || part === '.') continue
      if (part === '..') {
        dir = dir.parent ?? root
        continue
      }
      let child = dir.children?.get(part)
      if (!child) {
        if (!create || dir.kind !== 'directory') return undefined
        child = { kind: 'directory', path: joinPath(dir.path, part), parent: dir, children: new Map() }
        dir.children!.set(part, child)
      } else if (child.kind === 'symlink') {
        child = followSymlink(child, create, depth + 1)
        if (!child) return undefined
      }
      if (child.kind !== 'directory') return undefined
      dir = child
    }
    return dir
  }

  const lookup = (path: string): Node | undefined => {
    const parts = path.split('/')
    const name = parts.pop()!
    return walkDir(parts, false)?.children!.get(name)
  }

  layers.forEach((entries, layer) => {
    const additions: Array<[number, LayerEntry, string[]]> = []
    entries.forEach((entry, index) => {
      const where = `layer ${layer + 1}: "${entry.name}"`
      if (entry.name.split('/').includes('..')) {
        problems.push(`${where} points outside the root file system`)
        return
      }
      const parts = normalizeArchivePath(entry.name).split('/').filter(Boolean)
      const base = parts.at(-1) ?? ''
      if (!base.startsWith(WHITEOUT_PREFIX)) {
        additions.push([index, entry, parts])
        return
      }
      // Whiteouts act on the layers below, before this layer's own entries.
      const dir = walkDir(parts.slice(0, -1), false)
      if (!dir) return
      if (base === OPAQUE_MARKER) dir.children!.clear()
      else if (!base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`))
        dir.children!.delete(base.slice(WHITEOUT_PREFIX.length))
    })
    for (const [index, entry, parts] of additions) {
      const id = `${layer}:${index}`
      const where = `layer ${layer + 1}: "${entry.name}"`
      if (parts.length === 0) {
        if (entry.type === 'directory') root.source = id
        else problems.push(`${where} replaces the root directory with a ${entry.type}`)
        continue
      }
      const name = parts.pop()!
      const dir = walkDir(parts, true)
      if (!dir) {
        problems.push(`${where} is inside something that is not a directory`)
        continue
      }
      const existing = dir.children!.get(name)
      if (entry.type === 'directory' && existing?.kind === 'directory') {
        existing.source = id
        nodes.set(id, existing)
        continue
      }
      const node: Node = { kind: entry.type, path: joinPath(dir.path, name), parent: dir, source: id }
      if (entry.type === 'directory') node.children = new Map()
      if (entry.type === 'symlink') node.symlinkTarget = entry.linkname ?? ''
      if (entry.type === 'link') {
        const target = lookup(normalizeArchivePath(entry.linkname ?? ''))
        if (!target || target.kind === 'directory' || !target.source) {
          problems.push(`${where} is a hard link to "${entry.linkname}", which is not a file of the image`)
          continue
        }
        // A hard link to a device node is left out with it.
        if (target.kind === 'other') node.kind = 'other'
        else node.provider = target.provider ?? target.source
      }
      dir.children!.set(name, node)
      nodes.set(id, node)
    }
  })

  const attached = new Set<Node>()
  const visit = (node: Node) => {
    attached.add(node)
    for (const child of node.children?.values() ?? []) visit(child)
  }
  visit(root)

  const emit = layers.map(() => new Map<number, EmitAction>())
  const put = (id: string, action: EmitAction) => {
    const [layer, index] = id.split(':').map(Number) as [number, number]
    emit[layer]!.set(index, action)
  }
  if (root.source) put(root.source, { name: '' })
  /** Where the content of a hard-linked file went: its own path, or its first surviving link's. */
  const contentPaths = new Map<string, string>()
  for (const node of attached) {
    if (node.source && node.kind !== 'link' && node !== root && nodes.get(node.source) === node) {
      contentPaths.set(node.source, node.path)
    }
  }
  const links = [...attached].filter((node) => node.kind === 'link').sort((a, b) => compareIds(a.source!, b.source!))
  for (const node of attached) {
    if (!node.source || node === root || node.kind === 'link' || nodes.get(node.source) !== node) continue
    if (node.kind !== 'other') put(node.source, { name: node.path })
  }
  for (const link of links) {
    const provider = link.provider!
    const contentPath = contentPaths.get(provider)
    if (contentPath === undefined) {
      contentPaths.set(provider, link.path)
      put(provider, { name: link.path })
      continue
    }
    put(link.source!, { name: link.path, linkname: contentPath })
  }
  return { emit, problems }
}

function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`
}

function compareIds(a: string, b: string): number {
  const [la, ia] = a.split(':').map(Number) as [number, number]
  const [lb, ib] = b.split(':').map(Number) as [number, number]
  return la - lb || ia - ib
}
