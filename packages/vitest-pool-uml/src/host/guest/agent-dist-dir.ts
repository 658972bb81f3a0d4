import { fileURLToPath } from 'node:url'

/**
 * The guest side of vitest-uml (agent, runtime init, the guest Node's shim): the
 * package's `dist/guest/`, found from `src/host/guest/` and `dist/host/guest/` alike, so the
 * sources use the built agent too.
 */
export function agentDistDir(): string {
  return fileURLToPath(new URL('../../../dist/guest', import.meta.url))
}
