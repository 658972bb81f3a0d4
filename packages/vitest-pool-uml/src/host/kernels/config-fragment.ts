import { UmlError } from '../core/index.js'
import { formatOption, GUEST_CONFIG } from './guest-config.js'

/** Options by name (without CONFIG_), each `y`, `m`, `n`, a number or a quoted string. */
export type ConfigOptions = Map<string, string>

const SET = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/
const UNSET = /^# CONFIG_([A-Za-z0-9_]+) is not set$/
const VALUE = /^(y|m|n|-?\d+|0x[0-9a-fA-F]+|"(?:[^"\\]|\\.)*")$/

/**
 * Reads a config fragment (or a whole .config): `CONFIG_X=value` and `# CONFIG_X is not set`
 * lines, comments and blank lines. A later line for the same option wins, as in Kconfig. Any other
 * line is an error that names it, so a typo does not go unnoticed into a long build.
 */
export function parseConfigFragment(text: string, source: string): ConfigOptions {
  const options: ConfigOptions = new Map()
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim()
    const unset = UNSET.exec(line)
    if (unset) {
      options.set(unset[1]!, 'n')
      return
    }
    if (line === '' || line.startsWith('#')) return
    const set = SET.exec(line)
    if (!set || !VALUE.test(set[2]!)) {
      throw new UmlError(
        'UML_INVALID_OPTIONS',
        `Line ${index + 1} of the kernel config fragment ${source} is not a Kconfig option: ${JSON.stringify(raw)}. ` +
          'Write CONFIG_NAME=y (or =m, =n, a number, a "quoted string") or "# CONFIG_NAME is not set", one per line.',
        { details: { path: source, line: index + 1 } },
      )
    }
    options.set(set[1]!, set[2]!)
  })
  return options
}

/** Fragments applied in order: a later one's value for an option wins. */
export function mergeConfigFragments(...fragments: ConfigOptions[]): ConfigOptions {
  const merged: ConfigOptions = new Map()
  for (const fragment of fragments) for (const [name, value] of fragment) merged.set(name, value)
  return merged
}

/** The .config text that olddefconfig completes. */
export function formatConfig(options: ConfigOptions): string {
  return `${[...options].map(([name, value]) => formatOption(name, value)).join('\n')}\n`
}

/** An option of the fragment that the final .config does not have as asked. */
export interface LostOption {
  name: string
  wanted: string
  got: string
  /** Why guests need it, for the options of the default guest config. */
  why?: string
}

/**
 * What the final .config (after olddefconfig) dropped or changed: options the user's fragment
 * set (an unmet dependency or a typo in a name makes Kconfig drop them silently), and the options
 * guests cannot do without. Absent options count as `n`.
 */
export function findLostOptions(finalConfig: ConfigOptions, userFragment: ConfigOptions): LostOption[] {
  const got = (name: string) => finalConfig.get(name) ?? 'n'
  const lost = new Map<string, LostOption>()
  for (const [name, wanted] of userFragment) {
    if (got(name) !== wanted) lost.set(name, { name, wanted, got: got(name) })
  }
  // Also when the user's fragment turned one off on purpose: guests would not boot.
  for (const { name, value, why, required } of GUEST_CONFIG) {
    if (required && got(name) !== value) lost.set(name, { name, wanted: value, got: got(name), why })
  }
  return [...lost.values()]
}

/** The coded error for a config that lost options, naming each and why guests need it. */
export function configRejected(kernel: string, lost: readonly LostOption[], logPath: string): UmlError {
  const lines = lost.map(
    (option) =>
      `  CONFIG_${option.name}: wanted ${option.wanted}, got ${option.got}${option.why ? ` (guests need it: ${option.why})` : ''}`,
  )
  const required = lost.filter((option) => option.why !== undefined)
  const fix =
    required.length > 0
      ? 'Options guests need must stay on: remove what turns them off from the fragment (or what they depend on).'
      : 'Kconfig drops an option whose dependencies are off or whose name it does not know: check the names and add what they depend on to the fragment.'
  return new UmlError(
    'UML_KERNEL_CONFIG_REJECTED',
    `The config of kernel ${kernel} after \`make olddefconfig\` lacks what was asked for:\n${lines.join('\n')}\n${fix} The final .config ends the build log ${logPath}.`,
    { details: { kernel, lost, logPath } },
  )
}
