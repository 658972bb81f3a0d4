import { UmlError } from '../../core/index.js'

/** A parsed, normalized image reference: `registry/repository[:tag][@digest]`. */
export interface ImageRef {
  /** `docker.io`, `ghcr.io`, `localhost:5000`... */
  registry: string
  /** `library/alpine`, `owner/img`... */
  repository: string
  tag?: string
  /** `sha256:<64 hex>` */
  digest?: string
}

const DOCKER_HUB = 'docker.io'
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG = /^\w[\w.-]{0,127}$/
const DIGEST = /^sha256:[a-f0-9]{64}$/
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?$|^\[[0-9a-fA-F:]+\](?::\d+)?$/

/**
 * Whether an `image` option names a registry image rather than a recipe or cached image: image
 * names are plain words, refs have a `/`, a `:` or an `@` (`alpine:3.21`, `ghcr.io/o/i@sha256:...`).
 */
export function isImageRef(image: string): boolean {
  return /[/:@]/.test(image)
}

/**
 * Parses a reference the way Docker does: a first component with a `.` or `:` (or `localhost`)
 * is the registry, otherwise Docker Hub, whose one-word repositories live under `library/`.
 * Without tag or digest the tag is `latest`.
 */
export function parseImageRef(input: string): ImageRef {
  const invalid = (why: string) =>
    new UmlError(
      'UML_INVALID_OPTIONS',
      `"${input}" is not a valid image reference: ${why}. Write it as registry/repository:tag or registry/repository@sha256:<digest>, e.g. docker.io/library/alpine:3.21.`,
      { details: { ref: input } },
    )
  let rest = input
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at !== -1) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) throw invalid('the digest must be sha256: and 64 lower-case hex digits')
  }
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.indexOf(':', lastSlash + 1)
  if (colon !== -1) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) throw invalid(`the tag "${tag}" has characters a tag cannot have`)
  }
  const parts = rest.split('/')
  let registry = DOCKER_HUB
  const first = parts[0]!
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!HOST.test(first)) throw invalid(`"${first}" is not a registry host`)
    registry = first === 'index.docker.io' || first === 'registry-1.docker.io' ? DOCKER_HUB : first
    parts.shift()
  }
  if (parts.length === 0 || parts.some((part) => !COMPONENT.test(part))) {
    throw invalid('repository names are lower-case letters and digits, separated by /, ., _ or -')
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library')
  const ref: ImageRef = { registry, repository: parts.join('/') }
  if (tag !== undefined || digest === undefined) ref.tag = tag ?? 'latest'
  if (digest !== undefined) ref.digest = digest
  return ref
}

/** The canonical text of a reference: `docker.io/library/alpine:3.21`. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`
}

/**
 * A short, readable name for a reference, for matrix cells and messages: the repository's last
 * component and the tag (`alpine-3.21`), or the digest's first 12 digits when there is no tag.
 */
export function imageRefLabel(ref: ImageRef): string {
  const name = ref.repository.split('/').pop()!
  return ref.tag ? `${name}-${ref.tag}` : `${name}-${ref.digest!.slice('sha256:'.length, 'sha256:'.length + 12)}`
}

/** The cache directory name of a repository: every character outside the image-name alphabet becomes `_`. */
export function repositoryDirName(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}`.toLowerCase().replace(/[^a-z0-9._-]/g, '_')
}
