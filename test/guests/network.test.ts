import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { networkInterfaces } from 'node:os'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  buildRecipeImage,
  Guest,
  getCacheDir,
  processTreePids,
  SANDBOX_KERNEL_DIR,
  SANDBOX_NODE_DIR,
} from 'vitest-pool-uml/api'
import { guestOptions, type TestGuestOptions } from '../helpers/boot-guest.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

/** The Debian mirror this machine reaches (the images' sources.list names it too). */
const mirror = new URL(process.env.VITEST_UML_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian')
/** apt on the frozen mirror snapshot: see docs/findings.md. */
const APT = 'apt-get -o Acquire::Check-Valid-Until=false -o Acquire::Retries=0'

/** A TCP connection attempt from the guest, as bash makes one: prints "open" or bash's error. */
function connectScript(host: string, port: number): string {
  return `timeout 20 bash -c 'exec 3<>/dev/tcp/${host}/${port} && echo open' 2>&1; true`
}

/** The host's first non-loopback IPv4 address: services listening on all addresses answer there. */
function hostAddress(): string {
  const address = Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .find((entry) => entry.family === 'IPv4' && !entry.internal)
  if (!address) throw new Error('this host has no IPv4 address besides loopback')
  return address.address
}

/** An HTTP server on the host answering every request with `body`. */
async function startServer(host: string, body: string | Buffer): Promise<Server> {
  const server = createServer((_req, res) => res.end(body))
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return server
}

/** The guest's UML kernel process on the host (a descendant of its bwrap). */
async function umlProcessOf(guest: Guest): Promise<number> {
  for (const pid of await processTreePids(guest.hostPid ?? 0)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.startsWith(`${SANDBOX_KERNEL_DIR}/linux`)) return pid
  }
  throw new Error('the guest has no UML process')
}

/**
 * Node code for the guest: a TCP service on the guest's 127.0.0.1, read back at 127.0.0.1 and at
 * localhost, then a connection to `hostPort` on 127.0.0.1; prints what each read got, or its error code.
 */
function guestLoopbackProbe(hostPort: number): string {
  return `const net = require('node:net')
const read = (host, port) => new Promise((resolve) => {
  let data = ''
  net.connect(port, host).on('data', (chunk) => { data += chunk }).on('end', () => resolve(data)).on('error', (error) => resolve(error.code))
})
const service = net.createServer((socket) => socket.end('guest service')).listen(0, '127.0.0.1', async () => {
  const { port } = service.address()
  for (const host of ['127.0.0.1', 'localhost']) console.log(host, await read(host, port))
  console.log('127.0.0.1:${hostPort}', await read('127.0.0.1', ${hostPort}))
  service.close()
})`
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port
}

/** Boots a guest (from imagePath, when given) for `run`, and disposes of it after. */
async function withGuest<T>(
  options: TestGuestOptions & { imagePath?: string },
  run: (guest: Guest) => Promise<T>,
): Promise<T> {
  const { imagePath, ...rest } = options
  const guest = await Guest.boot({ ...(await guestOptions(rest)), ...(imagePath && { imagePath }) })
  try {
    return await run(guest)
  } finally {
    await guest.dispose()
  }
}

async function sh(guest: Guest, script: string): Promise<{ exitCode: number | null; output: string }> {
  const result = await guest.exec(['sh', '-c', script])
  return { exitCode: result.exitCode, output: result.stdout + result.stderr }
}

describe('guest networking', () => {
  let loopbackServer: Server
  let allAddressesServer: Server

  beforeAll(async () => {
    loopbackServer = await startServer('127.0.0.1', 'loopback service')
    allAddressesServer = await startServer('0.0.0.0', 'service on all addresses')
  })

  afterAll(async () => {
    loopbackServer.close()
    allAddressesServer.close()
    expect(await waitForNoUmlProcesses()).toEqual([])
  })

  it('has no route out without the option', async () => {
    await withGuest({ image: 'debian-trixie' }, async (guest) => {
      const { output } = await sh(guest, `ls /sys/class/net; ${connectScript('203.0.113.80', 80)}`)
      expect(output).toMatch(/^lo\n/)
      expect(output).toContain('Network is unreachable')
    })
  })

  it('network: true configures eth0 and DNS at boot, and apt-get installs a package from the mirror', async () => {
    await withGuest({ image: 'debian-trixie', network: true }, async (guest) => {
      const setup = await sh(guest, `cat /sys/class/net/eth0/mtu /etc/resolv.conf; getent hosts ${mirror.hostname}`)
      expect(setup.output).toContain('65520')
      expect(setup.output).toContain('nameserver 10.0.2.3')
      expect(setup.output).toContain(mirror.hostname)
      const install = await sh(guest, `${APT} update -q && ${APT} install -y -q hello && hello`)
      expect(install.output).toContain('Hello, world!')
      expect(install.exitCode).toBe(0)
    })
  })

  it('network: true keeps the host out of reach: its loopback, its own addresses, link-local addresses', async () => {
    const targets = [
      // The host's loopback, as slirp4netns offers it on the gateway address.
      { host: '10.0.2.2', port: portOf(loopbackServer) },
      // The host's own address, where a service listening on all addresses answers.
      { host: hostAddress(), port: portOf(allAddressesServer) },
      // Cloud metadata services live here.
      { host: '169.254.169.254', port: 80 },
    ]
    // Where there is no wall (on the host itself), the two services answer.
    for (const target of targets.slice(0, 2)) {
      const host = target.host === '10.0.2.2' ? '127.0.0.1' : target.host
      const { stdout } = await execa('bash', ['-c', `exec 3<>/dev/tcp/${host}/${target.port} && echo open`])
      expect(stdout).toBe('open')
    }
    await withGuest({ image: 'debian-trixie', network: true }, async (guest) => {
      for (const target of targets) {
        const started = Date.now()
        const { output } = await sh(guest, connectScript(target.host, target.port))
        expect(output, `${target.host}:${target.port}`).toContain('Connection refused')
        // Refused at once, not left to time out.
        expect(Date.now() - started).toBeLessThan(5000)
        expect(guest.networkRefusals).toContain(`tcp 10.0.2.100 ${target.host} ${target.port}`)
      }
      // UDP is walled the same way (EHOSTUNREACH from the relay's ICMP answer).
      await sh(guest, `bash -c 'echo x > /dev/udp/169.254.169.254/53' 2>&1; sleep 0.5`)
      expect(guest.networkRefusals).toContain('udp 10.0.2.100 169.254.169.254 53')
      // The guest's loopback stays its own: its services answer at 127.0.0.1 and localhost, and the
      // host's loopback port is closed there (it would answer if loopback went out through eth0).
      const loopback = await guest.exec(['node', '-e', guestLoopbackProbe(portOf(loopbackServer))])
      expect(loopback.stdout.trim().split('\n'), loopback.stderr).toEqual([
        '127.0.0.1 guest service',
        'localhost guest service',
        `127.0.0.1:${portOf(loopbackServer)} ECONNREFUSED`,
      ])
    })
  })

  it('network: true leaves the UML process in an empty network namespace, away from the host', async () => {
    // Abstract unix sockets belong to a network namespace: this one is the host's.
    const abstract = createNetServer().listen(`\0vitest-uml-canary-${process.pid}`)
    await once(abstract, 'listening')
    const probe = `const net = require('node:net')
const targets = [{ host: '127.0.0.1', port: ${portOf(loopbackServer)} }, { host: '${hostAddress()}', port: ${portOf(allAddressesServer)} },
  { path: '\\0vitest-uml-canary-${process.pid}' }, { path: '/run/vitest-uml/net/uml.sock' }]
for (const target of targets) {
  const socket = net.connect(target)
  socket.on('connect', () => { console.log('open'); socket.destroy() })
  socket.on('error', (error) => console.log(error.code))
}`
    try {
      // On the host, with no wall, the three services answer (the relay's socket has no host path).
      const onHost = await execa(process.execPath, ['-e', probe])
      expect(onHost.stdout.split('\n').filter((line) => line === 'open')).toHaveLength(3)
      await withGuest({ image: 'debian-trixie', network: true }, async (guest) => {
        // What a hostile module or a guest-kernel exploit amounts to: code in the UML process's place.
        const uml = await umlProcessOf(guest)
        const inPlace = await execa(
          'nsenter',
          [
            '-t',
            String(uml),
            '--user',
            '--mount',
            '--net',
            '--preserve-credentials',
            `${SANDBOX_NODE_DIR}/bin/node`,
            '-e',
            probe,
          ],
          { reject: false },
        )
        expect(inPlace.stdout.split('\n').sort()).toEqual(['ECONNREFUSED', 'ECONNREFUSED', 'ENETUNREACH', 'ENOENT'])
      })
    } finally {
      abstract.close()
    }
  })

  it('forward makes only the listed host ports reachable, at the host address in the guest', async () => {
    await withGuest(
      { image: 'debian-trixie', network: { forward: [{ guest: 8080, host: portOf(loopbackServer) }] } },
      async (guest) => {
        const fetched = await sh(
          guest,
          `bash -c "exec 3<>/dev/tcp/host.vitest-uml.internal/8080 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"`,
        )
        expect(fetched.output).toContain('loopback service')
        // The host's port itself, and everything beyond the host, stay closed.
        const closed = await sh(
          guest,
          `${connectScript('10.0.2.2', portOf(loopbackServer))}; ${connectScript('203.0.113.80', 80)}`,
        )
        expect(closed.output.match(/connect: Connection refused/g)).toHaveLength(2)
      },
    )
  })

  describe('with an allow-list', () => {
    it('installs from the mirror when the list holds it', async () => {
      await withGuest({ image: 'debian-trixie', network: { allow: [mirror.hostname] } }, async (guest) => {
        const install = await sh(guest, `${APT} update -q && ${APT} install -y -q hello && hello`)
        expect(install.output).toContain('Hello, world!')
        // Past the proxy, nothing: a direct connection and DNS are refused.
        const direct = await sh(guest, `${connectScript('203.0.113.80', 80)}; getent hosts ${mirror.hostname}; echo $?`)
        expect(direct.output).toContain('Connection refused')
        expect(direct.output.trim().endsWith('2')).toBe(true)
      })
    })

    it('refuses the mirror at once, naming the host and the option, when the list leaves it off', async () => {
      await withGuest({ image: 'debian-trixie', network: { allow: ['packages.example.org'] } }, async (guest) => {
        const started = Date.now()
        const update = await sh(guest, `${APT} update -q 2>&1; ${APT} install -y -q hello 2>&1`)
        expect(Date.now() - started).toBeLessThan(30_000)
        expect(update.output).toContain(
          `UML_NETWORK_DENIED ${mirror.hostname}:${mirror.port || 80} is not in network.allow`,
        )
        expect(update.output).not.toContain('Hello, world!')
        expect(guest.networkRefusals).toContain(`proxy ${mirror.hostname}:${mirror.port || 80} (not in network.allow)`)
      })
    })
  })

  describe('installers that download', () => {
    let imagePath: string
    let server: Server

    beforeAll(async () => {
      // curl is not in minbase images: this test states what it needs in an image of its own.
      const image = await buildRecipeImage(
        {
          name: 'network-tools',
          suite: 'trixie',
          variant: 'minbase',
          packages: ['curl', 'ca-certificates'],
          description: 'trixie with curl',
        },
        { cacheDir: getCacheDir() },
      )
      imagePath = image.path
      server = createServer((req, res) => {
        if (req.url === '/install.sh')
          res.end(
            '#!/bin/sh\nset -e\ncurl -fsS http://host.vitest-uml.internal:8080/payload > /usr/local/bin/payload\nchmod +x /usr/local/bin/payload\n',
          )
        else if (req.url === '/payload') res.end('#!/bin/sh\necho payload installed\n')
        else res.writeHead(404).end()
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    })

    afterAll(() => {
      server.close()
    })

    it('curl | sh runs an installer served by a host server, which downloads its payload', async () => {
      await withGuest({ imagePath, network: { forward: [{ guest: 8080, host: portOf(server) }] } }, async (guest) => {
        const run = await sh(guest, 'curl -fsS http://host.vitest-uml.internal:8080/install.sh | sh && payload')
        expect(run.output).toContain('payload installed')
        expect(run.exitCode).toBe(0)
      })
    })
  })
})
