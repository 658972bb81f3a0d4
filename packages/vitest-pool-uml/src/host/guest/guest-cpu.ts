import { ancestors, readProc, readProcessTable } from './process-table.js'

/**
 * Which CPU a guest's processes run on. A guest is single-CPU, and its kernel and the host process
 * of the guest program that runs hand over to each other at every system call and page fault. Left
 * to the host's scheduler, a handover often wakes the other side on an idle CPU, which costs a
 * cross-CPU wakeup (and, in a VM, waking a halted virtual CPU); kept on one CPU it does not. So
 * each guest is pinned to one CPU, the one with the fewest guests already pinned, counting those
 * of other processes on the machine.
 */

/** The command name of a UML kernel's processes (its binary is `linux` in every sandbox). */
const UML_COMMAND = 'linux'
/** How far up from a UML kernel its starter is looked for (taskset's bwrap, bwrap's own child). */
const MAX_ANCESTORS = 4

/** This process's own guests per CPU: they are counted here, not in /proc, from before they start. */
const ownGuests = new Map<number, number>()

/** Parses a kernel CPU list such as `0-3,6` (as in /proc/PID/status's Cpus_allowed_list). */
export function parseCpuList(text: string): number[] {
  return text
    .trim()
    .split(',')
    .filter(Boolean)
    .flatMap((range) => {
      const [first, last = first] = range.split('-').map(Number) as [number, number?]
      return Array.from({ length: last - first + 1 }, (_, index) => first + index)
    })
}

/** The allowed CPU with the fewest guests; a tie is broken at random, so processes choosing at once spread. */
export function leastUsedCpu(
  allowed: readonly number[],
  guestsPerCpu: ReadonlyMap<number, number>,
  random = Math.random,
): number {
  const count = (cpu: number) => guestsPerCpu.get(cpu) ?? 0
  const fewest = Math.min(...allowed.map(count))
  const candidates = allowed.filter((cpu) => count(cpu) === fewest)
  return candidates[Math.floor(random() * candidates.length)]!
}

export interface GuestCpu {
  cpu: number
  release(): void
}

/**
 * Chooses the CPU for a new guest and holds it until `release` (once the guest shuts down or exits).
 * Undefined when this process may run on one CPU only: there is nothing to choose.
 */
export function claimGuestCpu(): GuestCpu | undefined {
  const allowed = parseCpuList(statusField(readProc('self', 'status') ?? '', 'Cpus_allowed_list'))
  if (allowed.length < 2) return undefined
  const perCpu = otherProcessesGuests()
  for (const [cpu, guests] of ownGuests) perCpu.set(cpu, (perCpu.get(cpu) ?? 0) + guests)
  const cpu = leastUsedCpu(allowed, perCpu)
  ownGuests.set(cpu, (ownGuests.get(cpu) ?? 0) + 1)
  let held = true
  return {
    cpu,
    release() {
      if (!held) return
      held = false
      ownGuests.set(cpu, (ownGuests.get(cpu) ?? 1) - 1)
    },
  }
}

/** Guests pinned to one CPU that other processes started: UML kernels not descended from this one. */
function otherProcessesGuests(): Map<number, number> {
  const processes = readProcessTable()
  const perCpu = new Map<number, number>()
  for (const [pid, { name, parent }] of processes) {
    // A guest's kernel, not one of the host processes it runs its guest programs in.
    if (name !== UML_COMMAND || processes.get(parent)?.name === UML_COMMAND) continue
    if (ancestors(pid, processes, MAX_ANCESTORS).includes(process.pid)) continue
    const cpus = parseCpuList(statusField(readProc(pid, 'status') ?? '', 'Cpus_allowed_list'))
    if (cpus.length === 1) perCpu.set(cpus[0]!, (perCpu.get(cpus[0]!) ?? 0) + 1)
  }
  return perCpu
}

/** A field of /proc/PID/status, empty when it is missing. */
function statusField(status: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? ''
}
