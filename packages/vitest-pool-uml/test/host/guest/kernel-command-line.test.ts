import { describe, expect, it } from 'vitest'
import { buildKernelCommandLine } from '../../../src/host/guest/kernel-command-line.js'

const base = { memoryMiB: 512, imageWritable: false, seccomp: true, mode: 'agent' as const, time: 'real' as const }

describe('buildKernelCommandLine', () => {
  it('boots a copy-on-write layer over the read-only image, the image again read-only, and the agent', () => {
    const line = buildKernelCommandLine(base)
    expect(line).toEqual(
      expect.arrayContaining([
        'mem=512M',
        'ubd0=/disk/cow,/run/vitest-uml/image.ext4',
        'ubd1r=/run/vitest-uml/image.ext4',
        'root=/dev/ubda',
        'con0=null,fd:1',
        'ssl1=fd:3,fd:4',
        'init=/sbin/vitest-uml-init',
        'seccomp=on',
        'vitest_uml_mode=agent',
      ]),
    )
    // Every console and serial line is set: an unset one opens an xterm.
    expect(line).toContain('con=null')
    expect(line).toContain('ssl=null')
  })

  it('writes straight to the image when asked, runs a shell on the terminal, and uses ptrace without seccomp', () => {
    const line = buildKernelCommandLine({ ...base, imageWritable: true, seccomp: false, mode: 'shell' })
    expect(line).toContain('ubd0=/run/vitest-uml/image.ext4')
    expect(line.some((arg) => arg.startsWith('ubd1'))).toBe(false)
    expect(line).toContain('con0=fd:0,fd:1')
    expect(line).toContain('vitest_uml_mode=shell')
    expect(line).not.toContain('seccomp=on')
  })

  it('has no argument with a space: the kernel splits its command line at spaces', () => {
    for (const arg of buildKernelCommandLine(base)) expect(arg).not.toMatch(/\s/)
  })

  it("asks for basic time travel under virtual time, and hands init the clock's date in seconds", () => {
    expect(buildKernelCommandLine(base).some((arg) => arg.startsWith('time-travel'))).toBe(false)
    const line = buildKernelCommandLine({ ...base, time: 'virtual', clock: new Date('2038-01-19T03:14:08.500Z') })
    expect(line).toContain('time-travel')
    expect(line).toContain('vitest_uml_clock=2147483648')
    const past = buildKernelCommandLine({ ...base, clock: new Date('1969-12-31T23:59:59Z') })
    expect(past).toContain('vitest_uml_clock=-1')
  })

  it('skips what costs a boot and serves nothing: legacy ptys, and the delay loop when its speed is known', () => {
    expect(buildKernelCommandLine(base)).toContain('pty.legacy_count=0')
    expect(buildKernelCommandLine(base).some((arg) => arg.startsWith('lpj='))).toBe(false)
    expect(buildKernelCommandLine({ ...base, loopsPerJiffy: 24_454_350 })).toContain('lpj=24454350')
  })

  it('keeps the tables the kernel sizes by memory small', () => {
    expect(buildKernelCommandLine(base)).toEqual(
      expect.arrayContaining(['jfs.nTxBlock=128', 'jfs.nTxLock=1024', 'dhash_entries=32768', 'ihash_entries=16384']),
    )
  })
})
