import { describe, expect, it } from 'vitest'
import { ConsoleLog } from '../../../src/host/guest/console-log.js'
import { DISK_FULL_CONSOLE_MARK, guestFailure } from '../../../src/host/guest/guest-failure.js'

/** The failure for a guest whose console says `text` and whose UML process ended with `exitCode`. */
function failure(text: string, exitCode?: number | null, overrides: { imageWritable?: boolean } = {}) {
  const console = new ConsoleLog()
  console.append(text)
  const context = {
    kernel: '7.2',
    commandLine: ['mem=512M', 'root=/dev/ubda'],
    console,
    diskMiB: 128,
    imageWritable: false,
  }
  return guestFailure({ ...context, ...overrides, exitCode }, 'died')
}

describe('guestFailure', () => {
  it.each([
    ['a kernel panic', 'Kernel panic - not syncing: sysrq triggered crash\n', 134, 'UML_GUEST_PANIC'],
    ['a lost write', `I/O error\n${DISK_FULL_CONSOLE_MARK}, sector 5\nKernel panic`, 137, 'UML_GUEST_DISK_FULL'],
    ['SIGKILL from outside', 'booted\n', 128 + 9, 'UML_GUEST_KILLED'],
    ['SIGTERM from outside', 'booted\n', 128 + 15, 'UML_GUEST_KILLED'],
    ['a crash (SIGSEGV)', 'booted\n', 128 + 11, 'UML_GUEST_EXITED'],
    ['a plain exit', 'booted\n', 1, 'UML_GUEST_EXITED'],
    ['an unknown end', '', null, 'UML_GUEST_EXITED'],
  ])('tells %s by the console and the exit status', (_, text, exitCode, code) => {
    expect(failure(text, exitCode).code).toBe(code)
  })

  it('names the disk limit, or the full host file system for a writable image', () => {
    expect(failure(DISK_FULL_CONSOLE_MARK, 137).shortMessage).toContain('more than its disk limit (128 MiB')
    expect(failure(DISK_FULL_CONSOLE_MARK, 137, { imageWritable: true }).shortMessage).toContain(
      'the host file system that holds the image is full',
    )
  })

  it('names the signal of a crash and the status of an exit', () => {
    expect(failure('', 128 + 11).shortMessage).toContain('crashed (SIGSEGV)')
    expect(failure('', 3).shortMessage).toContain('UML exit status 3')
  })

  it('keeps the console and command line as evidence and details, out of the short message', () => {
    const error = failure('line one\nKernel panic - not syncing\n', 134)
    expect(error.shortMessage).toBe(
      'The guest kernel (7.2) panicked. The console below shows why; a guest that runs out of memory or crashes its kernel on purpose ends this way.',
    )
    expect(error.message).toBe(
      `${error.shortMessage}\nKernel command line: mem=512M root=/dev/ubda\nConsole (last lines):\nline one\nKernel panic - not syncing`,
    )
    expect(error.details).toEqual({
      consoleTail: 'line one\nKernel panic - not syncing',
      commandLine: ['mem=512M', 'root=/dev/ubda'],
      exitCode: 134,
    })
  })

  it('reports a boot timeout with the time allowed, and an empty console as such', () => {
    const console = new ConsoleLog()
    const context = { kernel: '6.1', commandLine: [], console, diskMiB: 64, imageWritable: false }
    const error = guestFailure(context, 'boot-timeout', 8000)
    expect(error.code).toBe('UML_GUEST_BOOT_TIMEOUT')
    expect(error.shortMessage).toContain('did not become ready within 8000 ms')
    expect(error.message).toContain('Console (last lines):\n(empty)')
  })
})
