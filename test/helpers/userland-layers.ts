import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { debianMirror } from 'vitest-pool-uml/api'
import { tarOf } from './oci-layout.js'

/**
 * A Debian minbase root file system as a plain tar, from mmdebstrap (in a mount namespace of its
 * own as root, so the mounts it makes end with it; its unshare mode otherwise).
 */
export async function debianRootfsTar(dir: string, suite: string): Promise<Buffer> {
  const output = join(dir, `${suite}.tar`)
  const args = [
    '--variant=minbase',
    '--format=tar',
    '--aptopt=Acquire::Check-Valid-Until "false"',
    suite,
    output,
    debianMirror(),
  ]
  if (process.getuid?.() === 0)
    await execa('unshare', ['--mount', '--propagation', 'private', '--', 'mmdebstrap', ...args], {
      env: { TMPDIR: dir },
    })
  else await execa('mmdebstrap', args, { env: { TMPDIR: dir } })
  return readFile(output)
}

/**
 * A layer that makes a busybox userland a musl one: Debian's musl C library, its loader, and a
 * program built against it with musl-gcc that prints `hello from musl`.
 */
export async function muslLayer(dir: string): Promise<Buffer> {
  const source = join(dir, 'hello.c')
  const program = join(dir, 'hello-musl')
  await writeFile(source, '#include <stdio.h>\nint main(void) { puts("hello from musl"); return 0; }\n')
  await execa('musl-gcc', ['-O2', '-o', program, source])
  const libc = await readFile('/usr/lib/x86_64-linux-musl/libc.so').catch(() =>
    readFile('/lib/x86_64-linux-musl/libc.so'),
  )
  return tarOf([
    { name: 'lib/', type: 'directory' },
    { name: 'lib/x86_64-linux-musl/', type: 'directory' },
    { name: 'lib/x86_64-linux-musl/libc.so', content: libc, mode: 0o755 },
    { name: 'lib/ld-musl-x86_64.so.1', type: 'symlink', linkname: 'x86_64-linux-musl/libc.so' },
    { name: 'usr/local/', type: 'directory' },
    { name: 'usr/local/bin/', type: 'directory' },
    { name: 'usr/local/bin/hello-musl', content: await readFile(program), mode: 0o755 },
  ])
}
