import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/** sha256 of a file in hex, reporting the bytes read so far. */
export async function fileSha256(path: string, onProgress: (bytesRead: number) => void): Promise<string> {
  const hash = createHash('sha256')
  let bytesRead = 0
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer)
    bytesRead += (chunk as Buffer).length
    onProgress(bytesRead)
  }
  return hash.digest('hex')
}
