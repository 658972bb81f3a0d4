export type { MatrixCell } from './matrix-cells.js'
export type { ResolvedPoolOptions, UmlMatrixOptions, UmlPoolOptions } from './pool-options.js'
export { uml } from './uml-plugin.js'
export { type UmlPoolRunner, umlPool } from './uml-pool.js'
