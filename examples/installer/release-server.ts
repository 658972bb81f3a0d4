import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'

/**
 * A stand-in for a project's release server: serves the files in release/ on the host's loopback.
 * Resolves with its port; it does not keep the process alive.
 */
export async function startReleaseServer(): Promise<number> {
  const dir = join(import.meta.dirname, 'release')
  const server = createServer(async (req, res) => {
    const name = (req.url ?? '/').slice(1)
    const body = /^[\w.-]+$/.test(name) ? await readFile(join(dir, name)).catch(() => undefined) : undefined
    if (body) res.end(body)
    else res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  return (server.address() as AddressInfo).port
}
