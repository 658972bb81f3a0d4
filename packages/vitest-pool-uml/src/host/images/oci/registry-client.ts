import { createHash } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { fileSha256, UmlError } from '../../core/index.js'
import { type AuthChallenge, parseAuthChallenges } from './auth-challenge.js'
import { formatImageRef, type ImageRef } from './image-ref.js'
import { INDEX_MEDIA_TYPES, MANIFEST_MEDIA_TYPES } from './manifest-schema.js'
import { findRegistryCredentials, type RegistryCredentials } from './registry-credentials.js'

/** A manifest or index as the registry served it, checked against its digest. */
export interface FetchedManifest {
  digest: string
  mediaType: string
  body: Buffer
}

/** Attempts for a request that failed with a server error or a broken connection. */
const ATTEMPTS = 3
const RETRY_DELAY_MS = 500
/** A manifest is a small document; more is not one. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

/**
 * Speaks the OCI distribution protocol to one repository of one registry, pulling only: HTTPS,
 * or plain HTTP for registries on this machine (localhost, 127.x, ::1) and those listed in
 * `$VITEST_UML_INSECURE_REGISTRIES`. Authentication follows the registry's challenge: a bearer
 * token from its realm (with the user's credentials when there are any) or basic auth.
 */
export class RegistryClient {
  private authorization: string | undefined
  private credentials: Promise<RegistryCredentials | undefined> | undefined
  private readonly base: string

  constructor(
    private readonly ref: ImageRef,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    const host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry
    this.base = `${isInsecure(ref.registry, env) ? 'http' : 'https'}://${host}/v2/${ref.repository}`
  }

  /** Fetches a manifest or index by tag or digest; by digest, what came must have that digest. */
  async fetchManifest(reference: string): Promise<FetchedManifest> {
    const response = await this.request(`manifests/${reference}`, {
      accept: [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES].join(', '),
    })
    const body = await readLimited(response, MAX_MANIFEST_BYTES)
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`
    if (reference.startsWith('sha256:') && digest !== reference) throw digestMismatch(this.ref, reference, digest)
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim()
    return { digest, mediaType, body }
  }

  /**
   * Downloads a blob into `path`, resuming with a range request when the connection breaks, and
   * checks its size and digest: a blob that does not match is deleted and is an error.
   */
  async downloadBlob(digest: string, size: number, path: string, onBytes: (bytes: number) => void): Promise<void> {
    const file = await open(path, 'w')
    let received = 0
    let lastError: unknown
    try {
      for (let attempt = 0; attempt < ATTEMPTS * 2 && received < size; attempt++) {
        try {
          const response = await this.request(`blobs/${digest}`, received > 0 ? { range: `bytes=${received}-` } : {})
          if (response.status !== 206 && received > 0) {
            // The registry sent the whole blob again instead of the rest.
            await file.truncate(0)
            received = 0
          }
          for await (const chunk of Readable.fromWeb(response.body! as never) as AsyncIterable<Buffer>) {
            if (received + chunk.length > size) {
              throw new UmlError(
                'UML_REGISTRY_FAILED',
                `The registry ${this.ref.registry} sent more than the ${size} bytes of blob ${digest} that the manifest of ${formatImageRef(this.ref)} gives. The registry is at fault.`,
                { details: { digest, size } },
              )
            }
            await file.write(chunk, 0, chunk.length, received)
            received += chunk.length
            onBytes(chunk.length)
          }
          if (received < size) lastError = new Error(`the connection ended after ${received} of ${size} bytes`)
        } catch (error) {
          if (error instanceof UmlError) throw error
          lastError = error
        }
      }
    } finally {
      await file.close()
    }
    if (received < size) {
      throw new UmlError(
        'UML_REGISTRY_FAILED',
        `The registry ${this.ref.registry} did not send all of blob ${digest} of ${formatImageRef(this.ref)}: ${received} of ${size} bytes after ${ATTEMPTS * 2} attempts (${describeCause(lastError)}). Retry later.`,
        { cause: lastError, details: { digest, size, received } },
      )
    }
    const actual = await fileDigest(path)
    if (actual !== digest) {
      await rm(path, { force: true })
      throw digestMismatch(this.ref, digest, actual)
    }
  }

  private async request(path: string, headers: Record<string, string>): Promise<Response> {
    const url = `${this.base}/${path}`
    for (let attempt = 1; ; attempt++) {
      let response: Response
      try {
        response = await fetch(url, { headers: this.withAuth(headers), redirect: 'follow' })
        if (response.status === 401 && (await this.authenticate(response))) {
          response = await fetch(url, { headers: this.withAuth(headers), redirect: 'follow' })
        }
      } catch (cause) {
        if (cause instanceof UmlError) throw cause
        if (attempt < ATTEMPTS) {
          await delay(RETRY_DELAY_MS * attempt)
          continue
        }
        throw new UmlError(
          'UML_REGISTRY_FAILED',
          `Cannot reach the registry ${this.ref.registry} for ${formatImageRef(this.ref)} (${describeCause(cause)}). Check the registry's address and your network, then retry.`,
          { cause, details: { url } },
        )
      }
      if (response.ok) return response
      if (response.status >= 500 && attempt < ATTEMPTS) {
        await response.body?.cancel()
        await delay(RETRY_DELAY_MS * attempt)
        continue
      }
      throw await this.failure(response, url)
    }
  }

  private withAuth(headers: Record<string, string>): Record<string, string> {
    return this.authorization ? { ...headers, authorization: this.authorization } : headers
  }

  /** Answers a 401's challenge; false when there is nothing more to try. */
  private async authenticate(response: Response): Promise<boolean> {
    await response.body?.cancel()
    const challenges = parseAuthChallenges(response.headers.get('www-authenticate') ?? '')
    const credentials = await this.loadCredentials()
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer')
    if (bearer?.params.realm) {
      this.authorization = `Bearer ${await this.fetchToken(bearer, credentials)}`
      return true
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic') && credentials) {
      this.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`
      return true
    }
    return false
  }

  private loadCredentials(): Promise<RegistryCredentials | undefined> {
    this.credentials ??= findRegistryCredentials(this.ref.registry, this.env)
    return this.credentials
  }

  /** The token endpoint of the bearer challenge, asked for pull access to this repository. */
  private async fetchToken(challenge: AuthChallenge, credentials: RegistryCredentials | undefined): Promise<string> {
    const url = new URL(challenge.params.realm!)
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service)
    url.searchParams.set('scope', challenge.params.scope ?? `repository:${this.ref.repository}:pull`)
    const headers: Record<string, string> = credentials
      ? { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` }
      : {}
    let response: Response
    try {
      response = await fetch(url, { headers })
    } catch (cause) {
      throw new UmlError(
        'UML_REGISTRY_FAILED',
        `Cannot reach the token service ${url.origin} of the registry ${this.ref.registry} (${describeCause(cause)}). Check your network, then retry.`,
        { cause, details: { realm: url.href } },
      )
    }
    if (response.status === 401 || response.status === 403) throw await this.failure(response, url.href)
    if (!response.ok) throw await this.failure(response, url.href)
    const answer = (await response.json().catch(() => ({}))) as { token?: string; access_token?: string }
    const token = answer.token ?? answer.access_token
    if (!token) {
      throw new UmlError(
        'UML_REGISTRY_FAILED',
        `The token service ${url.origin} of the registry ${this.ref.registry} answered without a token. Retry later, or check the registry.`,
        { details: { realm: url.href } },
      )
    }
    return token
  }

  private async failure(response: Response, url: string): Promise<UmlError> {
    const text = (await response.text().catch(() => '')).slice(0, 300).trim()
    const status = `${response.status} ${response.statusText}`.trim()
    const ref = formatImageRef(this.ref)
    const details = { url, status: response.status, body: text }
    if (response.status === 401 || response.status === 403) {
      const credentials = await this.loadCredentials().catch(() => undefined)
      return new UmlError(
        'UML_REGISTRY_AUTH_FAILED',
        `The registry ${this.ref.registry} refused access to ${ref} (${status}${credentials ? `, as ${credentials.username}` : ', without credentials'}). ` +
          `Log in with \`docker login ${this.ref.registry}\` (or set DOCKER_AUTH_CONFIG) with an account that may pull it, and check that the repository exists.`,
        { details },
      )
    }
    if (response.status === 404) {
      return new UmlError(
        'UML_IMAGE_NOT_FOUND',
        `The registry ${this.ref.registry} has no ${url.includes('/blobs/') ? `blob ${url.split('/').pop()} of` : 'image'} ${ref} (${status}). Check the repository, tag and digest.`,
        { details },
      )
    }
    return new UmlError(
      'UML_REGISTRY_FAILED',
      `The registry ${this.ref.registry} failed to serve ${ref} (${status}${text ? `: ${text}` : ''}). Retry later; if it persists, the registry is at fault.`,
      { details },
    )
  }
}

function isInsecure(registry: string, env: NodeJS.ProcessEnv): boolean {
  const host = registry.replace(/:\d+$/, '')
  if (host === 'localhost' || host === '[::1]' || /^127\./.test(host)) return true
  const listed = (env.VITEST_UML_INSECURE_REGISTRIES ?? '').split(',').map((entry) => entry.trim())
  return listed.includes(registry)
}

async function readLimited(response: Response, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of Readable.fromWeb(response.body! as never)) {
    total += (chunk as Buffer).length
    if (total > limit)
      throw new UmlError(
        'UML_REGISTRY_FAILED',
        `A manifest from ${response.url} is over ${limit} bytes; that is not a manifest.`,
        { details: { url: response.url } },
      )
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function describeCause(cause: unknown): string {
  const error = cause as (Error & { cause?: { code?: string; message?: string } }) | undefined
  return error?.cause?.code ?? error?.cause?.message ?? error?.message ?? 'no reason given'
}

async function fileDigest(path: string): Promise<string> {
  return `sha256:${await fileSha256(path, () => {})}`
}

export function digestMismatch(ref: ImageRef, expected: string, actual: string): UmlError {
  return new UmlError(
    'UML_IMAGE_DIGEST_MISMATCH',
    `What the registry ${ref.registry} served for ${formatImageRef(ref)} has digest ${actual}, not ${expected}: it was changed or damaged on the way or in the registry. Nothing was cached; retry, and if it persists, do not trust this registry's copy.`,
    { details: { ref: formatImageRef(ref), expected, actual } },
  )
}
