import { createSign, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { execa, type ResultPromise } from 'execa'

export interface TestRegistry {
  /** `127.0.0.1:<port>`: a ref's registry part. */
  host: string
  username: string
  password: string
  /** Where the registry keeps its blobs, to tamper with them. */
  storageDir: string
  /** Pushes an OCI layout (`dir`, its `tag`) to `repository:tag` with skopeo, as the test user. */
  push(layoutDir: string, tag: string, repository: string): Promise<void>
  stop(): Promise<void>
}

export interface RegistryOptions {
  /** `basic`: htpasswd; `token`: a bearer-token service (started here) that the registry trusts. */
  auth: 'basic' | 'token'
}

/**
 * Starts Debian's docker-registry (the CNCF distribution registry) on a free port of 127.0.0.1,
 * with its storage in a scratch directory and authentication required, and waits until it
 * answers. Token auth uses a small token service of the test's own: the registry checks the
 * tokens it signs against its certificate, exactly as it would a real token service's.
 */
export async function startRegistry(options: RegistryOptions): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-registry-'))
  const storageDir = join(dir, 'storage')
  await mkdir(storageDir)
  const username = 'tester'
  const password = randomBytes(9).toString('base64url')
  const port = await freePort()
  const host = `127.0.0.1:${port}`
  let tokenServer: Server | undefined
  let auth: string
  if (options.auth === 'basic') {
    const htpasswd = await execa('htpasswd', ['-Bbn', username, password])
    await writeFile(join(dir, 'htpasswd'), `${htpasswd.stdout.trim()}\n`)
    auth = `  htpasswd:\n    realm: vitest-uml-test\n    path: ${join(dir, 'htpasswd')}\n`
  } else {
    await execa('openssl', [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=vitest-uml-test-token'],
      ...['-keyout', join(dir, 'token.key'), '-out', join(dir, 'token.pem')],
    ])
    const tokens = await startTokenService(dir, username, password)
    tokenServer = tokens.server
    auth = `  token:\n    realm: ${tokens.realm}\n    service: vitest-uml-test\n    issuer: vitest-uml-test-issuer\n    rootcertbundle: ${join(dir, 'token.pem')}\n`
  }
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\nauth:\n${auth}`,
  )
  const registry: ResultPromise = execa('docker-registry', ['serve', join(dir, 'config.yml')], {
    reject: false,
    all: true,
    stdin: 'ignore',
  })
  const stop = async () => {
    registry.kill('SIGTERM')
    await registry
    await new Promise((resolve) => (tokenServer ? tokenServer.close(resolve) : resolve(undefined)))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitForRegistry(host, registry)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    host,
    username,
    password,
    storageDir,
    async push(layoutDir, tag, repository) {
      await execa('skopeo', [
        ...['copy', '--insecure-policy', '--all', '--quiet', '--dest-tls-verify=false'],
        ...['--dest-creds', `${username}:${password}`],
        `oci:${layoutDir}:${tag}`,
        `docker://${host}/${repository}:${tag}`,
      ])
    },
    stop,
  }
}

async function waitForRegistry(host: string, registry: ResultPromise): Promise<void> {
  const deadline = Date.now() + 20_000
  let exited = false
  void registry.finally(() => {
    exited = true
  })
  while (Date.now() < deadline && !exited) {
    const answered = await fetch(`http://${host}/v2/`).then(
      (response) => response.status,
      () => 0,
    )
    if (answered === 200 || answered === 401) return
    await delay(100)
  }
  const result = await Promise.race([registry, delay(100, undefined)])
  throw new Error(`docker-registry did not start on ${host}: ${result ? String(result.all) : 'no answer in 20 s'}`)
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A JWT token service like Docker Hub's: basic credentials in, a signed token with the granted scope out. */
async function startTokenService(
  dir: string,
  username: string,
  password: string,
): Promise<{ server: Server; realm: string }> {
  const key = await readFile(join(dir, 'token.key'), 'utf8')
  const certificate = (await readFile(join(dir, 'token.pem'), 'utf8')).replace(/-----[^-]+-----|\s/g, '')
  const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://token')
    const given = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString()
    if (given !== `${username}:${password}`) {
      response
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"details":"incorrect username or password"}')
      return
    }
    const access = url.searchParams.getAll('scope').map((scope) => {
      const [type, ...rest] = scope.split(':')
      const actions = rest.pop()!.split(',')
      return { type, name: rest.join(':'), actions }
    })
    const now = Math.floor(Date.now() / 1000)
    const header = base64url({ alg: 'RS256', typ: 'JWT', x5c: [certificate] })
    const claims = base64url({
      iss: 'vitest-uml-test-issuer',
      sub: username,
      aud: url.searchParams.get('service'),
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    })
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key).toString('base64url')
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `${header}.${claims}.${signature}` }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { server, realm: `http://127.0.0.1:${port}/token` }
}
