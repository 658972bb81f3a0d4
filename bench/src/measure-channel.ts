import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Guest, type GuestProcess } from 'vitest-pool-uml/api'
import { defaultGuestOptions } from './measure-guests.js'
import { percentile } from './stats.js'

/** Round trips timed for the latency figures. */
const ROUND_TRIPS = 500
/** Payload per message for the throughput figures, and messages each way. */
const PAYLOAD_BYTES = 1 << 20
const PAYLOADS = 16

export interface ChannelFigures {
  roundTripP50Ms: number
  roundTripP99Ms: number
  /** MB/s of 1 MiB messages, each answered before the next goes. */
  toGuestMBps: number
  fromGuestMBps: number
}

// Answers each message at once: an empty reply to a small one, its size back to a payload, and a
// payload of its own when asked for one.
const ECHO = `
const payload = Buffer.alloc(${PAYLOAD_BYTES}, 7)
process.on('message', (m) => process.send(m.want ? { data: payload } : { n: m.data ? m.data.length : 0 }))
process.send({ ready: true })
`

/**
 * What the channel between the host and a Node process in the guest gives, as the Vitest worker
 * uses it (IPC messages through the agent): round-trip latency of small messages, and throughput
 * each way.
 */
export async function measureChannel(): Promise<ChannelFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'vitest-uml-bench-channel-'))
  await writeFile(join(dir, 'echo.cjs'), ECHO)
  const guest = await Guest.boot({ ...(await defaultGuestOptions()), shares: [{ hostPath: dir }] })
  try {
    const echo = guest.fork(join(dir, 'echo.cjs'))
    await reply(echo)
    const ask = async (message: object) => {
      const started = performance.now()
      echo.send(message)
      await reply(echo)
      return performance.now() - started
    }
    const roundTrips: number[] = []
    for (let i = 0; i < ROUND_TRIPS; i++) roundTrips.push(await ask({ i }))
    const payload = Buffer.alloc(PAYLOAD_BYTES, 1)
    let toGuestMs = 0
    let fromGuestMs = 0
    for (let i = 0; i < PAYLOADS; i++) {
      toGuestMs += await ask({ data: payload })
      fromGuestMs += await ask({ want: true })
    }
    const mbps = (ms: number) => (PAYLOADS * PAYLOAD_BYTES) / 1e6 / (ms / 1000)
    echo.kill('SIGKILL')
    return {
      roundTripP50Ms: percentile(roundTrips, 50),
      roundTripP99Ms: percentile(roundTrips, 99),
      toGuestMBps: mbps(toGuestMs),
      fromGuestMBps: mbps(fromGuestMs),
    }
  } finally {
    await guest.dispose()
    await rm(dir, { recursive: true, force: true })
  }
}

function reply(process: GuestProcess): Promise<unknown> {
  return new Promise((resolve) => process.once('message', resolve))
}
