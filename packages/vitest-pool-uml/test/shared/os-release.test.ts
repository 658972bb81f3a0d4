import { describe, expect, it } from 'vitest'
import { parseOsRelease } from '../../src/shared/os-release.js'

describe('parseOsRelease', () => {
  it('reads quoted and bare values and skips comments', () => {
    const text = '# comment\nNAME="Debian GNU/Linux"\nID=debian\nVERSION_ID=\'12\'\nQUOTE="a \\"b\\" \\$c"\n\n'
    expect(parseOsRelease(text)).toEqual({
      NAME: 'Debian GNU/Linux',
      ID: 'debian',
      VERSION_ID: '12',
      QUOTE: 'a "b" $c',
    })
  })
})
