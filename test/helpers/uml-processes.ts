import { execa } from 'execa'

/** Host processes running a sandboxed UML kernel (their command line starts with its sandbox path). */
export async function listUmlProcesses(): Promise<string[]> {
  const { stdout } = await execa('pgrep', ['-a', '-f', '^/run/vitest-uml/kernel/linux'], { reject: false })
  return stdout.split('\n').filter(Boolean)
}
