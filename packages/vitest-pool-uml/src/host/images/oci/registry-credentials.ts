import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { UmlError } from '../../core/index.js'
import { loadExeca } from '../../core/load-execa.js'

export interface RegistryCredentials {
  username: string
  password: string
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>
  credHelpers?: Record<string, string>
  credsStore?: string
}

/** The keys Docker itself files Docker Hub's login under. */
const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io', 'docker.io']

/**
 * Credentials for a registry the way `docker login` leaves them: `$DOCKER_AUTH_CONFIG` (the JSON
 * of a config.json, as CI systems pass it), else `$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`; an `auths` entry, else a credential helper (`credHelpers`,
 * `credsStore`) asked through its `get` protocol. Undefined when none is configured.
 */
export async function findRegistryCredentials(
  registry: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RegistryCredentials | undefined> {
  const configs: Array<[string, string]> = []
  if (env.DOCKER_AUTH_CONFIG) configs.push(['$DOCKER_AUTH_CONFIG', env.DOCKER_AUTH_CONFIG])
  const file = join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json')
  const text = await readFile(file, 'utf8').catch(() => undefined)
  if (text !== undefined) configs.push([file, text])
  const keys = registry === 'docker.io' ? DOCKER_HUB_KEYS : [registry]
  for (const [where, json] of configs) {
    let config: DockerConfig
    try {
      config = JSON.parse(json) as DockerConfig
    } catch (cause) {
      throw new UmlError(
        'UML_REGISTRY_AUTH_FAILED',
        `The registry credentials in ${where} are not valid JSON. Fix them (or log in again with docker login).`,
        { cause, details: { where } },
      )
    }
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      if (!keys.includes(hostOf(key))) continue
      if (entry.username && entry.password) return { username: entry.username, password: entry.password }
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
      }
    }
    const helper = keys.map((key) => config.credHelpers?.[key]).find(Boolean) ?? config.credsStore
    if (helper) return askCredentialHelper(helper, keys[0]!)
  }
  return undefined
}

/** `https://ghcr.io/v2/` and `ghcr.io` both name ghcr.io. */
function hostOf(key: string): string {
  if (DOCKER_HUB_KEYS.includes(key)) return key
  return key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '')
}

async function askCredentialHelper(helper: string, serverUrl: string): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`
  const { execa } = await loadExeca()
  const result = await execa(program, ['get'], { input: serverUrl, reject: false })
  if (result.failed) {
    // Helpers answer "credentials not found in native keychain" when there is no login.
    if (/not found/i.test(String(result.stdout) + String(result.stderr))) return undefined
    throw new UmlError(
      'UML_REGISTRY_AUTH_FAILED',
      `The Docker credential helper ${program} failed for ${serverUrl} (${String(result.stderr).trim() || result.shortMessage}). Install it, or log in again.`,
      { cause: result, details: { helper: program } },
    )
  }
  const answer = JSON.parse(String(result.stdout)) as { Username?: string; Secret?: string }
  return answer.Username && answer.Secret ? { username: answer.Username, password: answer.Secret } : undefined
}
