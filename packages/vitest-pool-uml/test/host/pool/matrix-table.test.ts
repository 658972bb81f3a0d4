import { describe, expect, it } from 'vitest'
import type { CellResult } from '../../../src/host/pool/matrix-results.js'
import { renderMatrixMarkdown, renderMatrixTable } from '../../../src/host/pool/matrix-table.js'

const result = (image: string, kernel: string, counts: Partial<CellResult> = {}): CellResult => ({
  cell: { name: `${image}@${kernel}`, kernel, image, imageLabel: image },
  files: 1,
  passed: 0,
  failed: 0,
  skipped: 0,
  wallTime: undefined,
  ...counts,
})

const GRID = [
  result('debian-bookworm', '6.1', { passed: 3, skipped: 1, wallTime: 2412 }),
  result('debian-bookworm', '7.2', { passed: 2, failed: 2, wallTime: 640 }),
  result('debian-trixie', '6.1', { files: 0 }),
  result('debian-trixie', '7.2', { files: 2 }),
]

const ROWS = [
  result('debian-bookworm', '7.2', { passed: 12, wallTime: 10_250 }),
  result('debian-trixie', '7.2', { passed: 11, failed: 1, skipped: 3, wallTime: 9 }),
  result('debian-sid', '7.2', { files: 0 }),
]

describe('renderMatrixTable', () => {
  it('draws kernels × images as a grid when both vary', () => {
    expect(renderMatrixTable(GRID)).toMatchInlineSnapshot(`
      " Matrix: 3 of 4 cells ran, 1 failed

         kernel  debian-bookworm                debian-trixie
         6.1     ✓ 3 passed, 1 skipped · 2.41s  not run
         7.2     ✗ 2 failed, 2 passed · 640ms   ✓ no tests · –
      "
    `)
  })

  it('lists a row per cell when only one dimension varies', () => {
    expect(renderMatrixTable(ROWS)).toMatchInlineSnapshot(`
      " Matrix: 2 of 3 cells ran, 1 failed

         cell                   passed  failed  skipped     time
         ✓ debian-bookworm@7.2      12       0        0   10.25s
         ✗ debian-trixie@7.2        11       1        3      9ms
           debian-sid@7.2            –       –        –  not run
      "
    `)
  })
})

describe('renderMatrixMarkdown', () => {
  it('writes the same tables as Markdown', () => {
    expect(renderMatrixMarkdown(GRID)).toMatchInlineSnapshot(`
      "### Matrix: 3 of 4 cells ran, 1 failed

      | kernel | debian-bookworm | debian-trixie |
      | --- | --- | --- |
      | 6.1 | ✅ 3 passed, 1 skipped · 2.41s | not run |
      | 7.2 | ❌ 2 failed, 2 passed · 640ms | ✅ no tests · – |

      "
    `)
    expect(renderMatrixMarkdown(ROWS)).toMatchInlineSnapshot(`
      "### Matrix: 2 of 3 cells ran, 1 failed

      | cell | passed | failed | skipped | time |
      | --- | ---: | ---: | ---: | ---: |
      | ✅ debian-bookworm@7.2 | 12 | 0 | 0 | 10.25s |
      | ❌ debian-trixie@7.2 | 11 | 1 | 3 | 9ms |
      | ➖ debian-sid@7.2 | – | – | – | not run |

      "
    `)
  })
})
