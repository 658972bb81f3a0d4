import { DefaultDeserializer, DefaultSerializer } from 'node:v8'

/**
 * Node's IPC serialization ('advanced', lib/internal/child_process/serialization.js): V8's, with a
 * tag before each host object, 0 for a typed array (written as DefaultSerializer writes it), 1 for
 * another host object (written as a plain object). The agent in the guest relays a forked
 * process's messages in this form, so the host encodes and decodes them as the process does.
 */
const ARRAY_BUFFER_VIEW_TAG = 0
const OTHER_HOST_OBJECT_TAG = 1

/** The host-object hooks of node:v8's classes, which @types/node does not declare. */
interface HostObjectHooks {
  _writeHostObject(object: object): void
  _readHostObject(): unknown
}

const defaultHooks = {
  write: (DefaultSerializer.prototype as unknown as HostObjectHooks)._writeHostObject,
  read: (DefaultDeserializer.prototype as unknown as HostObjectHooks)._readHostObject,
}

class IpcSerializer extends DefaultSerializer {
  _writeHostObject(object: object): void {
    if (ArrayBuffer.isView(object)) {
      this.writeUint32(ARRAY_BUFFER_VIEW_TAG)
      defaultHooks.write.call(this, object)
      return
    }
    this.writeUint32(OTHER_HOST_OBJECT_TAG)
    this.writeValue({ ...object })
  }
}

class IpcDeserializer extends DefaultDeserializer {
  _readHostObject(): unknown {
    const tag = this.readUint32()
    if (tag === ARRAY_BUFFER_VIEW_TAG) return defaultHooks.read.call(this)
    if (tag !== OTHER_HOST_OBJECT_TAG) throw new Error(`a host object of unknown tag ${tag}`)
    return this.readValue()
  }
}

export function encodeIpcMessage(message: unknown): Buffer {
  const serializer = new IpcSerializer()
  serializer.writeHeader()
  serializer.writeValue(message)
  return serializer.releaseBuffer()
}

/** Throws on bytes that are not one serialized value. */
export function decodeIpcMessage(bytes: Uint8Array): unknown {
  const deserializer = new IpcDeserializer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  deserializer.readHeader()
  return deserializer.readValue()
}

/**
 * Node's own messages on the channel (`{ cmd: 'NODE_…' }`, for handles and clusters), which its
 * child_process keeps from 'message' listeners.
 */
export function isNodeInternalMessage(message: unknown): boolean {
  const cmd = (message as { cmd?: unknown } | null)?.cmd
  return typeof cmd === 'string' && cmd.startsWith('NODE_')
}
