import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LoopbackMirror {
  url: string
  /** Paths requested so far, in order. */
  requests: string[]
  close(): Promise<void>
}

/** A stand-in Debian mirror on 127.0.0.1 that answers every request with `handler`. */
export async function startLoopbackMirror(handler: RequestListener): Promise<LoopbackMirror> {
  const requests: string[] = []
  const server = createServer((request, response) => {
    requests.push(request.url ?? '')
    handler(request, response)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/debian`,
    requests,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
