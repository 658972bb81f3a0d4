import { existsSync, readFileSync } from 'node:fs'
import { execa } from 'execa'
import { expect, it } from 'vitest'
import { diesWithParent } from '../../../src/host/core/dies-with-parent.js'

/** `/autogroup-12 nice 7`: the session's scheduling group and the niceness it has as a whole. */
const readGroup = ['cat', '/proc/self/autogroup'] as const

/** As root, steps drop to nobody: the kernel limits how often others may set a group's niceness. */
const asUser =
  process.getuid?.() === 0
    ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all']
    : []

async function detachedUnderNice(file: string, args: readonly string[]): Promise<string> {
  const { stdout } = await execa('nice', ['-n', '7', ...asUser, file, ...args], { detached: true, stdin: 'ignore' })
  return stdout.trim()
}

const hasAutogroups = existsSync('/proc/self/autogroup')

it.skipIf(!hasAutogroups)(
  'gives a step in a session of its own the niceness it was started with, where sessions are scheduled as groups',
  async () => {
    const ours = readFileSync('/proc/self/autogroup', 'utf8').trim()
    const [file, args] = await diesWithParent(readGroup[0], readGroup.slice(1), 'for the test')
    const wrapped = await detachedUnderNice(file, args)
    expect(wrapped).toMatch(/ nice 7$/)
    expect(wrapped.split(' ')[0]).not.toBe(ours.split(' ')[0])
    // The same step spawned bare: its new group keeps the default, so `nice -n 7` ranks it nowhere.
    expect(await detachedUnderNice(readGroup[0], readGroup.slice(1))).toMatch(/ nice 0$/)
    expect(readFileSync('/proc/self/autogroup', 'utf8').trim()).toBe(ours)
  },
)

it.skipIf(!hasAutogroups)(
  'gives each of several steps started at once its niceness, one write per 100 ms as the kernel allows',
  async () => {
    const [file, args] = await diesWithParent(readGroup[0], readGroup.slice(1), 'for the test')
    const groups = await Promise.all(Array.from({ length: 4 }, () => detachedUnderNice(file, args)))
    for (const group of groups) expect(group).toMatch(/ nice 7$/)
  },
)
