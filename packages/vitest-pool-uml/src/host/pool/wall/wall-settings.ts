import { resolve } from 'node:path'
import type { TestProject } from 'vitest/node'
import { guestModulesDir } from '../guest-modules.js'
import { snapshotPath, snapshotUpdateMode, type VitestRuntime } from '../vitest-internals.js'
import { HostFiles } from './host-files.js'
import type { SnapshotScope } from './snapshot-files.js'

/** What the wall knows of a project, the same for each of its workers. */
export interface WallSettings {
  project: TestProject
  files: HostFiles
  runtime: VitestRuntime
  snapshots: Omit<SnapshotScope, 'files' | 'testFiles'>
}

export function wallSettings(project: TestProject, runtime: VitestRuntime): WallSettings {
  const snapshotPaths = new Map<string, string>()
  return {
    project,
    files: new HostFiles(project.vite.config, project.config.root, [guestModulesDir()]),
    runtime,
    snapshots: {
      snapshotPath(testFile) {
        let path = snapshotPaths.get(testFile)
        if (path === undefined) {
          path = snapshotPath(project, testFile)
          snapshotPaths.set(testFile, path)
        }
        return path
      },
      get updateMode() {
        return snapshotUpdateMode(project)
      },
      hostCode: hostCode(project),
      isModule: (path) =>
        Object.values(project.vite.environments).some(
          (environment) => (environment.moduleGraph.getModulesByFile(path)?.size ?? 0) > 0,
        ),
      isTestFile: (path) => project.matchesTestGlob(path),
    },
  }
}

/** Files the host itself runs for this project: config files and what they import, global setup. */
function hostCode(project: TestProject): Set<string> {
  const configs = [project.vite.config, project.vitest.vite.config]
  return new Set(
    [
      ...configs.flatMap((config) => [config.configFile ?? '', ...config.configFileDependencies]),
      ...[project.config.globalSetup].flat(),
    ]
      .filter((path): path is string => typeof path === 'string' && path !== '')
      .map((path) => resolve(project.config.root, path)),
  )
}
