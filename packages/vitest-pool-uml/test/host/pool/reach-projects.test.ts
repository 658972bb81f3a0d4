import { describe, expect, it } from 'vitest'
import type { Vitest } from 'vitest/node'
import { isUmlError } from '../../../src/host/core/index.js'
import { checkProjectsReached, reachInlineProjects } from '../../../src/host/pool/reach-projects.js'

const child = { name: 'vitest-pool-uml' }

describe('reachInlineProjects', () => {
  it('adds the pool to inline projects that do not extend a config, and to no other', () => {
    const own = { test: { name: 'own' } }
    const extending = { extends: true, test: { name: 'extending' } }
    const listed = { plugins: [[{ name: 'vitest-pool-uml' }]], test: { name: 'listed' } }
    const withOthers = { plugins: [{ name: 'react' }], test: { name: 'with-others' } }
    const config = { test: { projects: ['packages/*', own, extending, listed, withOthers] } }
    reachInlineProjects(config, () => child)
    expect(config.test.projects).toEqual([
      'packages/*',
      { plugins: [child], test: { name: 'own' } },
      extending,
      listed,
      { plugins: [{ name: 'react' }, child], test: { name: 'with-others' } },
    ])
  })

  it('leaves a config without projects alone', () => {
    const config = { test: {} }
    reachInlineProjects(config, () => child)
    expect(config).toEqual({ test: {} })
  })
})

describe('checkProjectsReached', () => {
  const project = (name: string, pool: string, plugins: string[], configFile?: string) => ({
    name,
    config: { pool, root: '/p' },
    vite: { config: { configFile, plugins: plugins.map((plugin) => ({ name: plugin })) } },
  })

  it('accepts projects that have the pool or run elsewhere', () => {
    const vitest = { projects: [project('a', 'uml', ['vitest-pool-uml']), project('b', 'forks', [])] }
    expect(() => checkProjectsReached(vitest as unknown as Vitest)).not.toThrow()
  })

  it('names the config file a project in the uml pool needs uml() in', () => {
    const vitest = {
      projects: [project('a', 'uml', ['vitest-pool-uml']), project('b', 'uml', [], '/p/b/vitest.config.ts')],
    }
    let error: unknown
    try {
      checkProjectsReached(vitest as unknown as Vitest)
    } catch (caught) {
      error = caught
    }
    expect(isUmlError(error, 'UML_INVALID_OPTIONS')).toBe(true)
    expect((error as Error).message).toContain('project "b" (/p/b/vitest.config.ts)')
    expect((error as Error).message).toContain('Add uml() to the plugins of that config file')
  })
})
