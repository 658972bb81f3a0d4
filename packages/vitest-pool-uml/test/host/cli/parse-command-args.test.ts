import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { parseRunArgs } from '../../../src/host/cli/commands/run.js'
import { parseCommandArgs } from '../../../src/host/cli/parse-command-args.js'
import { usageError as problem } from './usage-error.js'

describe('parseRunArgs', () => {
  it('takes guest flags, shares, environment, a working directory and the command after --', () => {
    const flags = parseRunArgs([
      '--kernel=6.1',
      '--memory',
      '256',
      '--share',
      '/srv/data',
      '--share',
      'relative/out:rw',
      '--env',
      'A=1',
      '--env',
      'B=x=y',
      '--cwd',
      '/root',
      '--',
      'sh',
      '-c',
      'echo --not-a-flag',
    ])
    expect(flags).toEqual({
      kernel: '6.1',
      memory: 256,
      share: [
        { hostPath: '/srv/data', writable: false },
        { hostPath: `${process.cwd()}/relative/out`, writable: true },
      ],
      env: { A: '1', B: 'x=y' },
      cwd: '/root',
      positionals: ['sh', '-c', 'echo --not-a-flag'],
    })
  })

  it('names each bad flag as typed, never the field it is parsed into', () => {
    expect(problem(() => parseRunArgs(['--memory', 'lots', '--', 'true']))).toBe(
      'Invalid arguments for `run`: --memory: takes a whole number of MiB, for example 512. See `vitest-uml --help`.',
    )
    expect(problem(() => parseRunArgs(['--env', 'NO_EQUALS', '--cwd', 'rel', '--', 'true']))).toBe(
      'Invalid arguments for `run`:\n  - --env: takes NAME=VALUE\n  - --cwd: must be an absolute path in the guest\nSee `vitest-uml --help`.',
    )
    expect(problem(() => parseRunArgs([]))).toContain(
      'Invalid arguments for `run`: name the command to run after --, for example: vitest-uml run -- uname -a.',
    )
  })

  it('rejects unknown flags with Node’s own words', () => {
    const message = problem(() => parseRunArgs(['--kernal', '7.2', '--', 'true']))
    expect(message).toContain("Invalid arguments for `run`: Unknown option '--kernal'")
    expect(message).toMatch(/See `vitest-uml --help`\.$/)
  })
})

describe('parseCommandArgs', () => {
  it('passes positionals to the schema and strips nothing the schema keeps', () => {
    const schema = z.object({ name: z.string().optional(), positionals: z.array(z.string()).max(1, 'one at most') })
    expect(parseCommandArgs('images build', ['debian-sid'], { name: { type: 'string' } }, schema)).toEqual({
      positionals: ['debian-sid'],
    })
    expect(problem(() => parseCommandArgs('images build', ['a', 'b'], {}, schema))).toBe(
      'Invalid arguments for `images build`: one at most. See `vitest-uml --help`.',
    )
  })
})
