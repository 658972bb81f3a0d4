import { readFile } from 'node:fs/promises'

/** The host's settings that allow or forbid unprivileged user namespaces (absent where the kernel has none). */
export interface UserNamespaceSettings {
  /** `kernel.apparmor_restrict_unprivileged_userns`: 1 on Ubuntu 24.04 and later. */
  apparmorRestrict?: string
  /** `kernel.unprivileged_userns_clone`: 0 forbids them on older Debian kernels. */
  unprivilegedClone?: string
  /** `user.max_user_namespaces`: 0 forbids them everywhere. */
  maxUserNamespaces?: string
}

const SYSCTL_FILES: Record<keyof UserNamespaceSettings, string> = {
  apparmorRestrict: '/proc/sys/kernel/apparmor_restrict_unprivileged_userns',
  unprivilegedClone: '/proc/sys/kernel/unprivileged_userns_clone',
  maxUserNamespaces: '/proc/sys/user/max_user_namespaces',
}

export async function readUserNamespaceSettings(): Promise<UserNamespaceSettings> {
  const settings: UserNamespaceSettings = {}
  for (const [key, file] of Object.entries(SYSCTL_FILES) as Array<[keyof UserNamespaceSettings, string]>) {
    const value = await readFile(file, 'utf8').catch(() => undefined)
    if (value !== undefined) settings[key] = value.trim()
  }
  return settings
}

/** Writes a sysctl now and for every boot after. */
const persist = (name: string, value: string) =>
  `sudo sysctl -w ${name}=${value} && echo '${name}=${value}' | sudo tee /etc/sysctl.d/60-vitest-uml.conf`

/**
 * Why guests cannot run unprivileged on this host, and the fix, or undefined. Guests (bubblewrap),
 * image builds (unshare --map-auto, mmdebstrap's unshare mode) all need unprivileged user
 * namespaces; root needs none. Ubuntu 24.04 lets AppArmor deny them to unconfined programs.
 */
export function userNamespaceProblem(
  settings: UserNamespaceSettings,
  isRoot: boolean,
): { detail: string; fix: string } | undefined {
  if (isRoot) return undefined
  if (settings.apparmorRestrict === '1') {
    return {
      detail:
        "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 24.04's default): bubblewrap cannot sandbox guests, nor can images be built without root",
      fix: `${persist('kernel.apparmor_restrict_unprivileged_userns', '0')} (or give bwrap, unshare and mmdebstrap an AppArmor profile that allows \`userns\`; see docs/ci.md)`,
    }
  }
  if (settings.unprivilegedClone === '0') {
    return {
      detail: 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone=0)',
      fix: persist('kernel.unprivileged_userns_clone', '1'),
    }
  }
  if (settings.maxUserNamespaces === '0') {
    return {
      detail: 'user namespaces are disabled (user.max_user_namespaces=0)',
      fix: persist('user.max_user_namespaces', '15000'),
    }
  }
  return undefined
}
