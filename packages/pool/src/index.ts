export type { ResolvedPoolOptions, UmlPoolOptions } from './pool-options.js'
export { uml } from './uml-plugin.js'
export { type UmlPoolRunner, umlPool } from './uml-pool.js'
