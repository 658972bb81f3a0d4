import { release } from 'node:os'
import { type AgentMessage, GUEST_CHANNEL_DEVICE, type HostMessage } from '../shared/index.js'
import { openAgentChannel } from './channel.js'
import { mountShares } from './mount-shares.js'
import { readOsRelease } from './os-release.js'
import { type RunningProcess, startProcess } from './start-process.js'

/**
 * The agent: started by the guest's init, it greets the host, sets up what the host asks for,
 * reports ready, then runs commands until told to shut down. Exiting ends the guest.
 */
function main(): void {
  const channel = openAgentChannel(GUEST_CHANNEL_DEVICE)
  const running = new Map<number, RunningProcess>()

  const handle = (message: HostMessage) => {
    switch (message.t) {
      case 'setup':
        try {
          mountShares(message.shares)
          channel.send({ t: 'ready', kernelRelease: release(), osRelease: readOsRelease() })
        } catch (error) {
          channel.send({ t: 'agent-error', message: (error as Error).message })
        }
        return
      case 'exec':
      case 'fork': {
        const reply = (reply: AgentMessage) => {
          if (reply.t === 'exit') running.delete(reply.id)
          channel.send(reply)
        }
        if (message.t === 'exec' && message.inSessionOf !== undefined) {
          const root = running.get(message.inSessionOf)?.root
          if (!root) {
            reply({ t: 'exit', id: message.id, code: null, signal: null, error: 'its session has ended' })
            return
          }
          running.set(message.id, startProcess(message, reply, root))
          return
        }
        const started = startProcess(message, reply)
        running.set(message.id, started)
        return
      }
      case 'ipc':
        running.get(message.id)?.send(message.message)
        return
      case 'signal':
        running.get(message.id)?.signal(message.signal)
        return
      case 'shutdown':
        for (const process of running.values()) process.signal('SIGKILL')
        channel.close()
        process.exit(0)
    }
  }

  channel.onMessage(handle)
  channel.send({ t: 'hello' })
}

main()
