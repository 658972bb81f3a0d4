import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'

function osRelease(): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of readFileSync('/etc/os-release', 'utf8').split('\n')) {
    const [key, value] = line.split('=')
    if (key && value && ['ID', 'VERSION_CODENAME'].includes(key)) fields[key] = value.replace(/"/g, '')
  }
  return fields
}

it('matches a snapshot file written by the host', () => {
  console.log('checking /etc/os-release of', osRelease().VERSION_CODENAME)
  expect(osRelease()).toMatchSnapshot()
})

it('matches an inline snapshot', () => {
  expect(osRelease().ID).toMatchInlineSnapshot(`"debian"`)
})
