import { describe, expect, it } from 'vitest'
import { matrixCells } from '../../../src/host/pool/matrix-cells.js'
import { parsePoolOptions } from '../../../src/host/pool/parse-pool-options.js'

const cellsOf = (input: Parameters<typeof parsePoolOptions>[0]) => matrixCells(parsePoolOptions(input, undefined))

describe('matrixCells', () => {
  it('makes a cell per kernel and image, named <image>@<kernel>, image by image', () => {
    expect(cellsOf({ matrix: { kernel: ['6.1', '7.2'], image: ['debian-bookworm', 'debian-trixie'] } })).toEqual([
      { name: 'debian-bookworm@6.1', kernel: '6.1', image: 'debian-bookworm', imageLabel: 'debian-bookworm' },
      { name: 'debian-bookworm@7.2', kernel: '7.2', image: 'debian-bookworm', imageLabel: 'debian-bookworm' },
      { name: 'debian-trixie@6.1', kernel: '6.1', image: 'debian-trixie', imageLabel: 'debian-trixie' },
      { name: 'debian-trixie@7.2', kernel: '7.2', image: 'debian-trixie', imageLabel: 'debian-trixie' },
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

  it('names cells of registry images by repository and tag, in full where two would clash', () => {
    const images = [
      'debian-trixie',
      'docker.io/library/alpine:3.21',
      `localhost:5000/ci/tools@sha256:${'a'.repeat(64)}`,
    ]
    expect(cellsOf({ matrix: { kernel: ['7.2'], image: images } }).map((cell) => cell.name)).toEqual([
      'debian-trixie@7.2',
      'alpine-3.21@7.2',
      'tools-aaaaaaaaaaaa@7.2',
    ])
    expect(
      cellsOf({ matrix: { image: ['alpine:3.21', 'ghcr.io/me/alpine:3.21', 'alpine:3.20'] } }).map((cell) => cell.name),
    ).toEqual(['docker.io-library-alpine-3.21@7.2', 'ghcr.io-me-alpine-3.21@7.2', 'alpine-3.20@7.2'])
  })

  it('rejects references that do not parse', () => {
    expect(() => parsePoolOptions({ matrix: { image: ['debian-trixie', 'Alpine:3'] } }, '/p/vitest.config.ts')).toThrow(
      /matrix\.image\.1: "Alpine:3" is not a valid image reference/,
    )
    expect(() => parsePoolOptions({ image: 'alpine@sha256:1' }, undefined)).toThrow(/the digest must be sha256/)
  })

  it('rejects empty and repeated lists, naming the config file', () => {
    expect(() => parsePoolOptions({ matrix: { kernel: [], image: ['a', 'a'] } }, '/p/vitest.config.ts')).toThrow(
      /in \/p\/vitest\.config\.ts:\n {2}- matrix\.kernel: list at least one kernel\n {2}- matrix\.image: list each image once/,
    )
  })
})
