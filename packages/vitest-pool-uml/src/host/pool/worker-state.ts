/**
 * Where a uml pool worker is in its life; each state says who answers Vitest's requests.
 *
 * - `idle`: created; `leasing`: waiting for a warm guest; `attached`: a guest and its Vitest worker
 *   are there, Vitest has not sent `start` yet.
 * - `starting`: the worker got `start`; `ready`: it answered, and holds no file; `running`: it
 *   holds a `run` or `collect` request.
 * - `relaunching`: the guest died before some of its files began; a fresh guest and worker, started
 *   as Vitest started the first, take them.
 * - `lost`: the guest is gone; the pool worker answers Vitest's requests in its stead.
 * - `stopping`, `stopped`: Vitest is stopping the pool worker (it sent `stop`, or called stop());
 *   its guest is disposed.
 * - `handing-on`: Vitest is stopping a worker whose file ran cleanly in a session (no hang,
 *   protocol violation, death or file left running): its guest goes to the pool for the next
 *   file's session once the worker's exit ended this one, instead of being disposed.
 */
export type WorkerState =
  | 'idle'
  | 'leasing'
  | 'attached'
  | 'starting'
  | 'ready'
  | 'running'
  | 'relaunching'
  | 'lost'
  | 'stopping'
  | 'handing-on'
  | 'stopped'

const TRANSITIONS: Record<WorkerState, readonly WorkerState[]> = {
  idle: ['leasing', 'stopping'],
  leasing: ['attached', 'stopping'],
  attached: ['starting', 'lost', 'stopping'],
  starting: ['ready', 'lost', 'stopping'],
  ready: ['running', 'lost', 'stopping', 'handing-on'],
  running: ['ready', 'relaunching', 'lost', 'stopping'],
  relaunching: ['running', 'lost', 'stopping'],
  lost: ['relaunching', 'stopping'],
  stopping: ['stopped'],
  'handing-on': ['stopped'],
  stopped: [],
}

export function canTransition(from: WorkerState, to: WorkerState): boolean {
  return TRANSITIONS[from].includes(to)
}

/**
 * Why a worker's guest ended, as execa's `terminationReason` says why a process did: Vitest
 * stopped it; the pool stopped it (a file ran past `fileTimeout`, or the guest broke the
 * protocol); the guest died by itself (panic, out of memory, disk limit, killed from outside);
 * or the Vitest worker in it exited while the guest lived.
 */
export type GuestEnd =
  | { reason: 'stopped' }
  | { reason: 'hung' | 'protocol' | 'died'; error: Error }
  /** Without an error when it exited by itself while it held no file. */
  | { reason: 'worker-exited'; error?: Error }
