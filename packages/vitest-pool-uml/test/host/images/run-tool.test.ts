import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isUmlError } from '../../../src/host/core/index.js'
import { runToolSteps } from '../../../src/host/images/run-tool.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vitest-uml-steps-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const options = { failureCode: 'UML_IMAGE_IMPORT_FAILED', what: 'The whole stopped', fix: 'Fix the whole.' } as const

describe('runToolSteps', () => {
  it('runs the steps in order, each argument as it is', async () => {
    const out = join(dir, "it's here")
    const steps = [
      { command: ['sh', '-c', 'printf %s "$1" > "$2"', 'sh', `a 'quoted' "word" $HOME`, out], what: '', fix: '' },
      { command: ['grep', '-qxF', `a 'quoted' "word" $HOME`, out], what: '', fix: '' },
    ] satisfies Parameters<typeof runToolSteps>[1]
    await runToolSteps([], steps, options)
    expect(existsSync(out)).toBe(true)
  })

  it("stops at the first step that fails, with that step's message, command and stderr", async () => {
    const never = join(dir, 'never')
    const failing = ['sh', '-c', 'echo "no space left" >&2; exit 2'] as [string, ...string[]]
    const error = await runToolSteps(
      ['env', '--'],
      [
        { command: ['true'], what: 'true failed', fix: 'Nothing.' },
        { command: failing, what: 'The second step could not', fix: 'Make room.' },
        { command: ['touch', never], what: 'touch failed', fix: 'Nothing.' },
      ],
      options,
    ).catch((caught: unknown) => caught)
    expect(isUmlError(error, 'UML_IMAGE_IMPORT_FAILED')).toBe(true)
    if (!isUmlError(error, 'UML_IMAGE_IMPORT_FAILED')) return
    expect(error.shortMessage).toBe('The second step could not (exit 2). Make room.')
    expect(error.details).toMatchObject({ command: failing, stderrTail: 'no space left' })
    expect(existsSync(never)).toBe(false)
  })

  it('describes the whole when no step started', async () => {
    const error = await runToolSteps(['false'], [{ command: ['true'], what: 'true failed', fix: '' }], options).catch(
      (caught: unknown) => caught,
    )
    expect((error as Error & { shortMessage: string }).shortMessage).toBe('The whole stopped (exit 1). Fix the whole.')
  })
})
