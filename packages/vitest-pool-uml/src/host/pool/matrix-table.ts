import type { CellResult } from './matrix-results.js'

/** The matrix's results for the terminal: a grid of kernels × images, or a row per cell. */
export function renderMatrixTable(results: readonly CellResult[]): string {
  const table = matrixTable(results, { pass: '✓', fail: '✗', notRun: ' ' })
  const rows = [table.header, ...table.rows]
  const widths = table.header.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  const lines = rows.map((row) =>
    row
      .map((text, column) => (table.numeric[column] ? text.padStart(widths[column]!) : text.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  )
  return [` ${table.title}`, '', ...lines.map((line) => `   ${line}`), ''].join('\n')
}

/** The matrix's results as Markdown, for a GitHub step summary. */
export function renderMatrixMarkdown(results: readonly CellResult[]): string {
  const table = matrixTable(results, { pass: '✅', fail: '❌', notRun: '➖' })
  const line = (row: string[]) => `| ${row.join(' | ')} |`
  const align = table.numeric.map((numeric) => (numeric ? '---:' : '---'))
  return [`### ${table.title}`, '', line(table.header), line(align), ...table.rows.map(line), '', ''].join('\n')
}

interface Table {
  title: string
  header: string[]
  rows: string[][]
  /** Right-aligned columns. */
  numeric: boolean[]
}

interface Marks {
  pass: string
  fail: string
  notRun: string
}

/** A grid when the cells vary in both kernel and image; with one of either, a row per cell reads better. */
function matrixTable(results: readonly CellResult[], marks: Marks): Table {
  const kernels = [...new Set(results.map((result) => result.cell.kernel))]
  const images = [...new Set(results.map((result) => result.cell.image))]
  const ran = results.filter((result) => result.files > 0).length
  const failed = results.filter((result) => result.failed > 0).length
  const title = `Matrix: ${ran} of ${results.length} cells ran${failed ? `, ${failed} failed` : ''}`
  if (kernels.length > 1 && images.length > 1) {
    const find = (kernel: string, image: string) =>
      results.find((result) => result.cell.kernel === kernel && result.cell.image === image)
    const label = (image: string) => results.find((result) => result.cell.image === image)!.cell.imageLabel
    const header = ['kernel', ...images.map(label)]
    return {
      title,
      header,
      rows: kernels.map((kernel) => [kernel, ...images.map((image) => summary(find(kernel, image), marks))]),
      numeric: header.map(() => false),
    }
  }
  return {
    title,
    header: ['cell', 'passed', 'failed', 'skipped', 'time'],
    rows: results.map((result) =>
      result.files === 0
        ? [`${marks.notRun} ${result.cell.name}`, '–', '–', '–', 'not run']
        : [
            `${mark(result, marks)} ${result.cell.name}`,
            String(result.passed),
            String(result.failed),
            String(result.skipped),
            formatTime(result.wallTime),
          ],
    ),
    numeric: [false, true, true, true, true],
  }
}

/** A grid entry: `✓ 3 passed, 1 skipped · 2.41s`. */
function summary(result: CellResult | undefined, marks: Marks): string {
  if (!result || result.files === 0) return 'not run'
  const counts = [
    result.failed && `${result.failed} failed`,
    result.passed && `${result.passed} passed`,
    result.skipped && `${result.skipped} skipped`,
  ].filter(Boolean)
  return `${mark(result, marks)} ${counts.join(', ') || 'no tests'} · ${formatTime(result.wallTime)}`
}

function mark(result: CellResult, marks: Marks): string {
  return result.failed ? marks.fail : marks.pass
}

function formatTime(ms: number | undefined): string {
  if (ms === undefined) return '–'
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(2)}s`
}
