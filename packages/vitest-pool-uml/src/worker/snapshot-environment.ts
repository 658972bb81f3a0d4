import { VitestSnapshotEnvironment } from 'vitest/runtime'
import { hostSnapshotEnvironment } from './host-snapshot-environment.js'

/** The snapshot environment for Vitest 4.1, which has it in `vitest/runtime`. */
export default hostSnapshotEnvironment(VitestSnapshotEnvironment)
