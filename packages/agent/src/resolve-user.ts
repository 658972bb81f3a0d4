import { readFileSync } from 'node:fs'

export interface UserIds {
  uid: number
  gid: number
  home: string
  name: string
}

/** Looks a guest user up in /etc/passwd, by name or uid; commands then run with its ids and home. */
export function resolveUser(user: string): UserIds {
  const passwd = readFileSync('/etc/passwd', 'utf8')
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':')
    if (name === undefined || uid === undefined || gid === undefined) continue
    if (name === user || uid === user) return { uid: Number(uid), gid: Number(gid), home: home || '/', name }
  }
  throw new Error(`No user ${JSON.stringify(user)} in the guest's /etc/passwd`)
}
