import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Pure computation: primes below a bound. */
export function countPrimes(below: number): number {
  const sieve = new Uint8Array(below)
  let count = 0
  for (let i = 2; i < below; i++) {
    if (sieve[i]) continue
    count++
    for (let j = i * i; j < below; j += i) sieve[j] = 1
  }
  return count
}

/** File system work under /tmp: write, list, read back and remove `files` small files. */
export function roundTripFiles(files: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'bench-'))
  try {
    for (let i = 0; i < files; i++)
      writeFileSync(join(dir, `f${i}.json`), JSON.stringify({ i, text: 'x'.repeat(i % 64) }))
    let total = 0
    for (const name of readdirSync(dir)) total += JSON.parse(readFileSync(join(dir, name), 'utf8')).i
    return total
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Starts `times` shell commands and collects their output. */
export function spawnShells(times: number): string[] {
  return Array.from({ length: times }, (_, i) =>
    execFileSync('sh', ['-c', `echo shell-${i}`], { encoding: 'utf8' }).trim(),
  )
}
