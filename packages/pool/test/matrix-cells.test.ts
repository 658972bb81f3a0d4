import { describe, expect, it } from 'vitest'
import { matrixCells } from '../src/matrix-cells.js'
import { parsePoolOptions } from '../src/parse-pool-options.js'

const cellsOf = (input: Parameters<typeof parsePoolOptions>[0]) => matrixCells(parsePoolOptions(input, undefined))

describe('matrixCells', () => {
  it('makes a cell per kernel and image, named <image>@<kernel>, image by image', () => {
    expect(cellsOf({ matrix: { kernel: ['6.1', '7.2'], image: ['debian-bookworm', 'debian-trixie'] } })).toEqual([
      { name: 'debian-bookworm@6.1', kernel: '6.1', image: 'debian-bookworm' },
      { name: 'debian-bookworm@7.2', kernel: '7.2', image: 'debian-bookworm' },
      { name: 'debian-trixie@6.1', kernel: '6.1', image: 'debian-trixie' },
      { name: 'debian-trixie@7.2', kernel: '7.2', image: 'debian-trixie' },
    ])
  })

  it('takes the kernel or image option for a dimension the matrix leaves out', () => {
    expect(
      cellsOf({ kernel: '6.12', matrix: { image: ['debian-sid', 'debian-bullseye'] } }).map((cell) => cell.name),
    ).toEqual(['debian-sid@6.12', 'debian-bullseye@6.12'])
    expect(cellsOf({ matrix: { kernel: ['5.10', '7.2'] } }).map((cell) => cell.name)).toEqual([
      'debian-trixie@5.10',
      'debian-trixie@7.2',
    ])
  })

  it('rejects empty and repeated lists, naming the config file', () => {
    expect(() => parsePoolOptions({ matrix: { kernel: [], image: ['a', 'a'] } }, '/p/vitest.config.ts')).toThrow(
      /in \/p\/vitest\.config\.ts:\n {2}- matrix\.kernel: list at least one kernel\n {2}- matrix\.image: list each image once/,
    )
  })
})
