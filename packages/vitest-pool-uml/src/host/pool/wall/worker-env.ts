import { isWallOff } from '../../core/index.js'

/** Variables Vitest itself gives its workers, and what locale, time zone, colours and CI detection read. */
const PASSED_NAMES = new Set([
  'TEST',
  'VITEST',
  'NODE_ENV',
  'FORCE_TTY',
  'CI',
  'TZ',
  'LANG',
  'LANGUAGE',
  'FORCE_COLOR',
  'NO_COLOR',
  'TERM',
  'COLORTERM',
])
const PASSED_PREFIXES = ['VITEST_', 'LC_']

export interface DeclaredEnv {
  /** `test.env` of the root config and of the project. */
  testEnv: Record<string, unknown>
  /** Vite's `import.meta.env` (MODE, BASE_URL, `VITE_`-prefixed variables), public by Vite's own rule. */
  viteEnv: Record<string, unknown>
}

/**
 * The environment of a test worker in a guest. Vitest hands its workers the whole host
 * environment (CI tokens, cloud keys) with `test.env` over it; a guest gets only what it was
 * declared to get: Vitest's own variables, `test.env`, Vite's public `import.meta.env`, locale,
 * time zone, colours and CI, then the pool's `env` option. HOME, USER and PATH are the guest's own.
 */
export function guestWorkerEnv(
  vitestEnv: Partial<NodeJS.ProcessEnv>,
  declared: DeclaredEnv,
  extra: Record<string, string>,
): Record<string, string> {
  if (isWallOff()) return { ...(vitestEnv as Record<string, string>), ...extra }
  const declaredNames = new Set([...Object.keys(declared.testEnv), ...Object.keys(declared.viteEnv)])
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(vitestEnv)) {
    const passed = PASSED_NAMES.has(name) || PASSED_PREFIXES.some((prefix) => name.startsWith(prefix))
    if (value !== undefined && (passed || declaredNames.has(name))) env[name] = value
  }
  return { ...env, ...extra }
}
