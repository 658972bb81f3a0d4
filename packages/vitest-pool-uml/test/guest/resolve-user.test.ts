import { describe, expect, it } from 'vitest'
import { resolveUser } from '../../src/guest/resolve-user.js'

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
builder:x:1000:1000:,,,:/home/builder:/bin/bash
nohome:x:1001:100::::/bin/sh
`

describe('resolveUser', () => {
  it('finds a user by name or by uid, with ids and home', () => {
    expect(resolveUser('builder', PASSWD)).toEqual({ uid: 1000, gid: 1000, home: '/home/builder', name: 'builder' })
    expect(resolveUser('1', PASSWD)).toEqual({ uid: 1, gid: 1, home: '/usr/sbin', name: 'daemon' })
  })

  it('gives a user without a home /', () => {
    expect(resolveUser('nohome', PASSWD).home).toBe('/')
  })

  it('runs a numeric uid the image does not list with that uid as group and / as home', () => {
    expect(resolveUser('4242', PASSWD)).toEqual({ uid: 4242, gid: 4242, home: '/', name: '4242' })
    expect(resolveUser('4242', '')).toEqual({ uid: 4242, gid: 4242, home: '/', name: '4242' })
  })

  it('names the user it cannot find', () => {
    expect(() => resolveUser('alice', PASSWD)).toThrow(`No user "alice" in the guest's /etc/passwd`)
  })
})
