import { describe, expect, it } from 'vitest'
import type { ViteUserConfig as UserConfig } from 'vitest/config'
import { BaseSequencer } from 'vitest/node'
import { isUmlError } from '../../../src/host/core/index.js'
import { MatrixReporter } from '../../../src/host/pool/matrix-reporter.js'
import { uml } from '../../../src/host/pool/uml-plugin.js'

const MATRIX = { kernel: ['6.1', '7.2'], image: ['debian-bookworm', 'debian-trixie'] }

const hooks = (plugin: ReturnType<typeof uml>) => ({
  config: plugin.config as (config: UserConfig & { configFile?: string }) => Promise<UserConfig | undefined>,
  configureVitest: plugin.configureVitest as (context: unknown) => Promise<void>,
})

describe('uml({ matrix })', () => {
  it('turns the root config into one project per cell, each extending it', async () => {
    const { config } = hooks(uml({ memory: 256, matrix: MATRIX }))
    expect(await config({ test: { include: ['test/**'] } })).toEqual({
      test: {
        projects: ['debian-bookworm@6.1', 'debian-bookworm@7.2', 'debian-trixie@6.1', 'debian-trixie@7.2'].map(
          (name) => ({ extends: true, test: { name, pool: 'uml' } }),
        ),
      },
    })
  })

  it('leaves a cell’s own config alone', async () => {
    const { config } = hooks(uml({ matrix: MATRIX }))
    expect(await config({ test: { name: 'debian-trixie@7.2' } })).toBeUndefined()
  })

  it('refuses a config that has projects of its own', async () => {
    const { config } = hooks(uml({ matrix: MATRIX }))
    const error = await config({ configFile: '/p/vitest.config.ts', test: { projects: ['packages/*'] } }).catch(
      (thrown: unknown) => thrown,
    )
    expect(isUmlError(error, 'UML_INVALID_OPTIONS')).toBe(true)
    expect((error as Error).message).toContain('/p/vitest.config.ts, which has test.projects already')
  })

  it('gives each cell a pool of its own and adds the table reporter once', async () => {
    const { config, configureVitest } = hooks(uml({ matrix: MATRIX }))
    await config({})
    // Merging reports: nothing is prepared, so nothing boots.
    const vitest = { config: { reporters: [] as unknown[], mergeReports: '.vitest-reports' } }
    const project = (name: string) => ({ name, config: { pool: 'uml' } as { pool: string; poolRunner?: unknown } })
    const cells = [project('debian-trixie@7.2'), project('debian-bookworm@6.1')]
    for (const cell of cells) await configureVitest({ project: cell, vitest })
    expect(cells[0]!.config.poolRunner).toMatchObject({ name: 'uml' })
    expect(cells[1]!.config.poolRunner).not.toBe(cells[0]!.config.poolRunner)
    expect(vitest.config.reporters).toHaveLength(1)
    expect(vitest.config.reporters[0]).toBeInstanceOf(MatrixReporter)

    const nested = { ...project('packages/a'), vite: { config: { configFile: '/p/packages/a/vitest.config.ts' } } }
    await expect(configureVitest({ project: nested, vitest })).rejects.toMatchObject({
      code: 'UML_INVALID_OPTIONS',
      message: expect.stringContaining('only the root Vitest config can have one'),
    })
  })

  it('makes --shard runs cut the same list of the cells’ files, wrapping the sequencer once', async () => {
    const { config, configureVitest } = hooks(uml({ matrix: MATRIX }))
    await config({})
    // A shard boots nothing before its files need a guest.
    const vitest = {
      config: { reporters: [] as unknown[], shard: { index: 1, count: 2 }, sequence: { sequencer: BaseSequencer } },
    }
    const project = (name: string) => ({ name, config: { pool: 'uml' } })
    await configureVitest({ project: project('debian-trixie@7.2'), vitest })
    const wrapped = vitest.config.sequence.sequencer
    await configureVitest({ project: project('debian-bookworm@6.1'), vitest })
    expect(wrapped).not.toBe(BaseSequencer)
    expect(vitest.config.sequence.sequencer).toBe(wrapped)
  })
})
