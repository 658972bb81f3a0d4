import { checkGuestInputs } from './check-inputs.js'
import { type GuestOptions, parseGuestOptions } from './guest-options.js'
import { spawnUml } from './spawn-uml.js'

/**
 * Boots a guest whose console is this process's terminal and runs a root login shell on it;
 * resolves with the UML exit status once the shell has exited and the guest powered off.
 * UML puts the terminal in raw mode itself and restores it at exit.
 */
export async function runShell(input: GuestOptions): Promise<number | null> {
  const options = parseGuestOptions(input)
  await checkGuestInputs(options)
  const uml = await spawnUml(options, 'shell')
  return uml.exit
}
