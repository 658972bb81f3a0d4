import { writeFile } from 'node:fs/promises'

export interface Bar {
  label: string
  seconds: number
}

/** A horizontal bar chart of wall times as a small standalone SVG, for the README. */
export function renderChart(title: string, bars: Bar[]): string {
  const width = 640
  const labelWidth = 170
  const barHeight = 28
  const top = 40
  const max = Math.max(...bars.map((bar) => bar.seconds))
  const scale = (width - labelWidth - 90) / max
  const rows = bars.map((bar, index) => {
    const y = top + index * (barHeight + 12)
    const length = Math.max(1, bar.seconds * scale)
    return [
      `<text x="${labelWidth - 10}" y="${y + 19}" text-anchor="end">${bar.label}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="${index === 0 ? '#8a8a8a' : '#3b7dd8'}"/>`,
      `<text x="${(labelWidth + length + 8).toFixed(1)}" y="${y + 19}">${bar.seconds.toFixed(1)} s</text>`,
    ].join('')
  })
  const height = top + bars.length * (barHeight + 12) + 10
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="14">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-weight="bold">${title}</text>
${rows.join('\n')}
</svg>
`
}

export async function writeChart(path: string, title: string, bars: Bar[]): Promise<void> {
  await writeFile(path, renderChart(title, bars))
}
