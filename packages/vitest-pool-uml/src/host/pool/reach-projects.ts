import type { Plugin } from 'vitest/config'
import type { TestProject, Vitest } from 'vitest/node'
import { UmlError } from '../core/errors.js'
import { POOL_NAME } from './pool-identity.js'

export const PLUGIN_NAME = 'vitest-pool-uml'

/**
 * Hands the root config's uml pool to the projects that `test.projects` defines inline without
 * `extends`: Vitest gives those only their own plugins, so `--pool=uml` would fail there with
 * "Runner uml is not supported". Projects with `extends` re-read the config they extend, uml()
 * included; projects of their own config file must list uml() themselves (see checkProjectsReached).
 */
export function reachInlineProjects(config: { test?: { projects?: unknown[] } }, plugin: () => Plugin): void {
  for (const project of config.test?.projects ?? []) {
    if (typeof project !== 'object' || project === null || 'then' in project) continue
    const inline = project as { extends?: unknown; plugins?: unknown[] }
    if (inline.extends || hasPlugin(inline.plugins)) continue
    inline.plugins = [...(inline.plugins ?? []), plugin()]
  }
}

/**
 * Stops Vitest with where uml() must go when a project runs in the uml pool that no uml() reached
 * (a project with its own config file, whose plugins lack it), instead of Vitest's bare
 * "Runner uml is not supported" once its first file is due.
 */
export function checkProjectsReached(vitest: Vitest): void {
  const missing = vitest.projects.filter(
    (project) =>
      project.config.pool === POOL_NAME && !project.config.poolRunner && !hasPlugin(project.vite.config.plugins),
  )
  if (missing.length === 0) return
  const where = (project: TestProject) =>
    `"${project.name}" (${project.vite.config.configFile ?? `root ${project.config.root}`})`
  throw new UmlError(
    'UML_INVALID_OPTIONS',
    `The uml pool is asked for in project ${missing.map(where).join(', ')}, which uml() does not reach: ` +
      'a project with a config file of its own takes only its own plugins. Add uml() to the plugins of that config file, ' +
      'or define the project inline in the root test.projects (uml() in the root config then reaches it).',
    { details: { project: missing[0]?.name, configFile: missing[0]?.vite.config.configFile } },
  )
}

function hasPlugin(plugins: readonly unknown[] | undefined): boolean {
  return (plugins ?? []).flat(Infinity).some((plugin) => (plugin as Plugin | null)?.name === PLUGIN_NAME)
}
