export type { MatrixCell } from './host/pool/matrix-cells.js'
export type { ResolvedPoolOptions, UmlMatrixOptions, UmlPoolOptions } from './host/pool/pool-options.js'
export { uml } from './host/pool/uml-plugin.js'
export { type UmlPoolRunner, umlPool } from './host/pool/uml-pool.js'
