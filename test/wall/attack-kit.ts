/**
 * The attacker's tools, as a test file in a guest (or, for the controls, on the host with
 * --pool=forks) would use them. Copied into the escape fixture as `test/attack-kit.ts`.
 */
export const ATTACK_KIT = `import { openSync, readdirSync, readFileSync, writeSync } from 'node:fs'
import { serialize } from 'node:v8'

let nextId = 0

function ask(message, matches, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage)
      reject(new Error('no answer'))
    }, timeoutMs)
    const onMessage = (reply) => {
      if (!matches(reply)) return
      clearTimeout(timer)
      process.off('message', onMessage)
      resolve(reply)
    }
    process.on('message', onMessage)
    process.send(message)
  })
}

/** A call to a host method of Vitest's worker RPC, made by hand on the worker's channel. */
export async function rawCall(method, args) {
  const i = 'attack-' + nextId++
  const reply = await ask({ t: 'q', m: method, a: args, i }, (m) => m?.t === 's' && m.i === i)
  if (reply.e) throw reply.e
  return reply.r
}

export function rawEvent(method, args) {
  process.send({ t: 'q', m: method, a: args })
}

/** A request to the host's snapshot file service, made by hand. */
export async function hostFs(op, path, content) {
  const id = 1e9 + nextId++
  const reply = await ask({ __vitest_uml_fs__: true, id, op, path, content }, (m) => m?.__vitest_uml_fs_reply__ && m.id === id)
  if (reply.error) throw new Error(reply.error)
  return reply.result
}

/** The code of a fetched module: in the answer, or (on the host, for the forks pool) in the file it names. */
export function moduleCode(result) {
  return result?.code ?? (result?.tmp ? readFileSync(result.tmp, 'utf8') : JSON.stringify(result))
}

export function show(value) {
  console.log('ATTACK GOT ' + (typeof value === 'string' ? value : JSON.stringify(value)))
}

/** Runs an attempt and prints what it got (an escape) or why it was refused. */
export async function attempt(fn) {
  try {
    show(await fn())
  } catch (error) {
    console.log('ATTACK REFUSED ' + String(error?.message ?? error).slice(0, 300))
  }
}

function signalAgent(signal) {
  for (const pid of readdirSync('/proc').filter((name) => /^\\d+$/.test(name))) {
    const cmdline = (() => { try { return readFileSync('/proc/' + pid + '/cmdline', 'utf8') } catch { return '' } })()
    if (cmdline.startsWith('/run/vitest-uml/agent/agent\\0')) process.kill(Number(pid), signal)
  }
}

/**
 * Only ever in a guest: writes raw bytes on the serial line that carries the agent's frames, the
 * agent stopped meanwhile (and let go on after, with \`resume\`, when the bytes are a whole frame).
 */
export function writeChannel(bytes, { resume = false } = {}) {
  if (!process.env.VITEST_UML_KERNEL) throw new Error('channel attacks run only in a guest')
  signalAgent('SIGSTOP')
  const fd = openSync('/dev/ttyS1', 'w')
  for (let at = 0; at < bytes.length; at += 1 << 20) writeSync(fd, bytes.subarray(at, at + (1 << 20)))
  if (resume) signalAgent('SIGCONT')
}

export function frame(value) {
  const payload = serialize(value)
  const header = Buffer.alloc(4)
  header.writeUInt32BE(payload.length)
  return Buffer.concat([header, payload])
}
`
