/**
 * The search path of every command and worker in the guest: the guest's own directories, then the
 * host's Node runtime, which the guest mounts under /run/vitest-uml (see
 * src/host/core/sandbox-layout.ts; the agent's init.sh, a shell script, spells it out once more).
 */
export const GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/run/vitest-uml/node/bin'
