import { VitestSnapshotEnvironment } from 'vitest/snapshot'
import { hostSnapshotEnvironment } from './host-snapshot-environment.js'

/** The snapshot environment for Vitest 4.0, which has no `vitest/runtime`. */
export default hostSnapshotEnvironment(VitestSnapshotEnvironment)
