import type { AgentMessage } from '../../shared/index.js'

type Check = (message: Record<string, unknown>) => boolean

const isId = (value: unknown) => Number.isSafeInteger(value) && (value as number) > 0
const isStringOrNull = (value: unknown) => value === null || typeof value === 'string'
/** The shape of each message an agent sends (see AgentMessage in src/shared/messages.ts). */
const SHAPES: Record<AgentMessage['t'], Check> = {
  hello: () => true,
  ready: (m) => typeof m.kernelRelease === 'string' && typeof m.osRelease === 'string',
  ack: (m) =>
    Number.isSafeInteger(m.bytes) &&
    (m.bytes as number) > 0 &&
    (m.spooled === undefined || (Number.isSafeInteger(m.spooled) && (m.spooled as number) >= 0)),
  stdout: (m) => isId(m.id) && m.data instanceof Uint8Array,
  stderr: (m) => isId(m.id) && m.data instanceof Uint8Array,
  exit: (m) =>
    isId(m.id) &&
    (m.code === null || Number.isSafeInteger(m.code)) &&
    isStringOrNull(m.signal) &&
    (m.error === undefined || typeof m.error === 'string'),
  ipc: (m) => isId(m.id) && m.bytes instanceof Uint8Array,
  'agent-error': (m) => typeof m.message === 'string',
}

/**
 * True for a well-formed agent message. The agent runs in the guest, whose root may have replaced
 * it: the host takes nothing from the channel that does not have the shape it expects.
 */
export function isAgentMessage(value: unknown): value is AgentMessage {
  if (typeof value !== 'object' || value === null) return false
  const message = value as Record<string, unknown>
  const check = typeof message.t === 'string' ? SHAPES[message.t as AgentMessage['t']] : undefined
  return Object.hasOwn(SHAPES, message.t as string) && check !== undefined && check(message)
}
