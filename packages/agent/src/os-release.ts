import { readFileSync } from 'node:fs'

/** Fields of os-release(5); empty for a userland that has none (a bare busybox rootfs). */
export function readOsRelease(): Record<string, string> {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      continue
    }
    const fields: Record<string, string> = {}
    for (const line of text.split('\n')) {
      const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim())
      if (match) fields[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, '$2')
    }
    return fields
  }
  return {}
}
