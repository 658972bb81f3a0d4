import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Guest, type GuestOptions, processTreeCpuMs } from 'vitest-pool-uml/api'
import { defaultGuestOptions, processTreePssMiB } from './measure-guests.js'
import { median } from './stats.js'

/** Boots timed with and without the network, alternating. */
const BOOTS = 5
/** Bytes each download carries, and downloads timed. */
const DOWNLOAD_BYTES = 200_000_000
const DOWNLOADS = 3
const GUEST_PORT = 8080

export interface NetworkFigures {
  /** Median ms from spawn to agent ready, without and with `network: true`. */
  bootMs: number
  bootWithNetworkMs: number
  /** Median MB/s of a download from a host HTTP server (a forwarded port) into the guest. */
  downloadMBps: number
  /** Host CPU per MB downloaded: the network helper (relay and slirp4netns), and the guest. */
  helperCpuMsPerMB: number
  guestCpuMsPerMB: number
  /** PSS of the network helper's processes, after the downloads. */
  helperMiB: number
}

/**
 * What a guest's network costs: boot time with and without it (alternating, medians), download
 * throughput from a server on the host, host CPU per MB and the helper's memory. The machine is
 * shared, so every figure is a median of alternating runs.
 */
export async function measureNetwork(): Promise<NetworkFigures> {
  const base = await defaultGuestOptions()
  const boots: Record<'off' | 'on', number[]> = { off: [], on: [] }
  for (let round = 0; round < BOOTS; round++) {
    for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const started = performance.now()
      const guest = await Guest.boot({ ...base, network: mode === 'on' })
      boots[mode].push(performance.now() - started)
      await guest.dispose()
    }
  }
  const body = Buffer.alloc(1 << 20, 'x')
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': DOWNLOAD_BYTES })
    let left = DOWNLOAD_BYTES / body.length
    const write = () => {
      while (left > 0) {
        left--
        if (!res.write(body)) return void res.once('drain', write)
      }
      res.end()
    }
    write()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const options: GuestOptions = {
    ...base,
    network: { forward: [{ guest: GUEST_PORT, host: (server.address() as AddressInfo).port }] },
  }
  const guest = await Guest.boot(options)
  try {
    const helper = guest.networkHelperPid
    if (helper === undefined) throw new Error('the guest has no network helper')
    const cpu = async () => ({ helper: await processTreeCpuMs(helper), guest: await guest.cpuMs() })
    const before = await cpu()
    const rates: number[] = []
    for (let i = 0; i < DOWNLOADS; i++) rates.push(await download(guest))
    const after = await cpu()
    const megabytes = (DOWNLOADS * DOWNLOAD_BYTES) / 1e6
    return {
      bootMs: median(boots.off),
      bootWithNetworkMs: median(boots.on),
      downloadMBps: median(rates),
      helperCpuMsPerMB: (after.helper - before.helper) / megabytes,
      guestCpuMsPerMB: (after.guest - before.guest) / megabytes,
      helperMiB: await processTreePssMiB(helper),
    }
  } finally {
    await guest.dispose()
    server.close()
  }
}

/** One download of the whole body into /dev/null, timed inside the guest; MB/s. */
async function download(guest: Guest): Promise<number> {
  const script = `start=$(date +%s%N); exec 3<>/dev/tcp/host.vitest-uml.internal/${GUEST_PORT}; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; n=$(cat <&3 | wc -c); echo $n $(( $(date +%s%N) - start ))`
  const { stdout, exitCode } = await guest.exec(['bash', '-c', script])
  const [bytes = 0, nanoseconds = 1] = stdout.trim().split(' ').map(Number)
  if (exitCode !== 0 || bytes < DOWNLOAD_BYTES) throw new Error(`the download in the guest failed: ${stdout}`)
  return bytes / 1e6 / (nanoseconds / 1e9)
}
