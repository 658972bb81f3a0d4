import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startProcess } from '../../src/guest/start-process.js'
import type { AgentMessage, ExecMessage, ForkMessage } from '../../src/shared/index.js'

// The agent's process handling, run on the host against real processes: only the guest is missing.
let cwd: string
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'vitest-uml-agent-'))
})
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true })
})

/** Starts a request and collects its replies until its `exit`. */
function run(request: ExecMessage | ForkMessage, onStart?: (process: ReturnType<typeof startProcess>) => void) {
  const replies: AgentMessage[] = []
  return new Promise<AgentMessage[]>((resolve) => {
    const started = startProcess(request, (reply) => {
      replies.push(reply)
      if (reply.t === 'exit') resolve(replies)
    })
    onStart?.(started)
  })
}

const output = (replies: AgentMessage[], stream: 'stdout' | 'stderr') =>
  Buffer.concat(replies.flatMap((reply) => (reply.t === stream ? [Buffer.from(reply.data)] : []))).toString()

describe('startProcess', () => {
  it('streams a command’s output and ends with its exit status', async () => {
    const replies = await run({ t: 'exec', id: 4, argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'], cwd })
    expect(output(replies, 'stdout')).toBe('out\n')
    expect(output(replies, 'stderr')).toBe('err\n')
    expect(replies.at(-1)).toEqual({ t: 'exit', id: 4, code: 3, signal: null })
    expect(replies.every((reply) => 'id' in reply && reply.id === 4)).toBe(true)
  })

  it('starts commands with the guest PATH and root’s variables, the request’s own over them', async () => {
    const replies = await run({
      t: 'exec',
      id: 1,
      argv: ['sh', '-c', 'echo "$PATH|$USER|$LANG|$EXTRA|$(pwd)"'],
      env: { EXTRA: 'x', LANG: 'de_DE.UTF-8' },
      cwd,
    })
    expect(output(replies, 'stdout')).toBe(
      `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/vitest-uml/node/bin|root|de_DE.UTF-8|x|${cwd}\n`,
    )
  })

  it('reports a command that cannot start, and an empty one, as an exit with the error', async () => {
    const missing = await run({ t: 'exec', id: 2, argv: ['/nonexistent/tool'], cwd })
    expect(missing.at(-1)).toMatchObject({ t: 'exit', id: 2, error: expect.stringContaining('ENOENT') })
    const empty = await run({ t: 'exec', id: 3, argv: [], cwd })
    expect(empty).toEqual([{ t: 'exit', id: 3, code: null, signal: null, error: 'empty command' }])
  })

  it('reports an environment too large for exec instead of throwing (E2BIG)', async () => {
    const replies = await run({ t: 'exec', id: 5, argv: ['true'], env: { HUGE: 'x'.repeat(256 * 1024) }, cwd })
    expect(replies.at(-1)).toMatchObject({ t: 'exit', id: 5, error: expect.stringContaining('E2BIG') })
  })

  it('forks a Node module with an IPC channel both ways', async () => {
    const entry = join(cwd, 'echo.mjs')
    await writeFile(entry, "process.on('message', (m) => { process.send({ got: m }); process.exit(0) })\n")
    const replies = await run({ t: 'fork', id: 6, entry, cwd }, (child) => child.send({ hello: [1, 2n] }))
    expect(replies).toContainEqual({ t: 'ipc', id: 6, message: { got: { hello: [1, 2n] } } })
    expect(replies.at(-1)).toEqual({ t: 'exit', id: 6, code: 0, signal: null })
  })

  it('signals a process, and kills one that ignores SIGTERM', async () => {
    const stubborn = "trap '' TERM; echo ready; while :; do sleep 0.1; done"
    const replies = await run({ t: 'exec', id: 7, argv: ['sh', '-c', stubborn], cwd }, (child) =>
      setTimeout(() => child.signal('SIGTERM'), 200),
    )
    expect(replies.at(-1)).toEqual({ t: 'exit', id: 7, code: null, signal: 'SIGKILL' })
  })
})
