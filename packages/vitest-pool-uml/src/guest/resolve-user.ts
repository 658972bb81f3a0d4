import { readFileSync } from 'node:fs'

export interface UserIds {
  uid: number
  gid: number
  home: string
  name: string
}

/**
 * Looks a guest user up in /etc/passwd, by name or uid; commands then run with its ids and home.
 * A numeric uid that the image does not list (container images often have no entry for the ids
 * they run as, or no passwd at all) runs with that uid as its group and / as its home.
 */
export function resolveUser(user: string, passwd = readPasswd()): UserIds {
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':')
    if (name === undefined || uid === undefined || gid === undefined) continue
    if (name === user || uid === user) return { uid: Number(uid), gid: Number(gid), home: home || '/', name }
  }
  if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user), home: '/', name: user }
  throw new Error(
    `No user ${JSON.stringify(user)} in the guest's /etc/passwd (give a numeric uid for a user the image does not list)`,
  )
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8')
  } catch {
    return ''
  }
}
