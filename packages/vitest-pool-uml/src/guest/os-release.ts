import { readFileSync } from 'node:fs'
import { OS_RELEASE_PATHS, parseOsRelease } from '../shared/index.js'

/** Fields of os-release(5); empty for a userland that has none (a bare busybox rootfs). */
export function readOsRelease(): Record<string, string> {
  for (const path of OS_RELEASE_PATHS) {
    try {
      return parseOsRelease(readFileSync(path, 'utf8'))
    } catch {}
  }
  return {}
}
