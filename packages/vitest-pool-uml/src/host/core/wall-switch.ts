/**
 * The escape suite's control. Set to 1, it switches off the wall between guests and the host: the
 * RPC and snapshot rules, the environment allow-list, the hiding of `server.fs.deny` files, and
 * the channel's frame cap and shape checks. The suite runs each attack with it to show the attack
 * gets through without the wall. A guest then has the run of the host user's files: never set it.
 */
export const WALL_OFF_VARIABLE = 'VITEST_UML_UNSAFE_WALL_OFF'

export function isWallOff(): boolean {
  return process.env[WALL_OFF_VARIABLE] === '1'
}
