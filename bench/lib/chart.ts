/**
 * The benchmark's chart, drawn by hand as SVG (no chart library): per server, the CPU it spends
 * on one push in 明文 and 安全 mode, and its peak RSS under the load. One row per server, two
 * panels side by side; every bar carries its figure so the chart reads without the table.
 */

/** One server's figures; a missing mode (the ceiling has no safe mode) draws no bar. */
export interface ChartRow {
  label: string
  /** Highlighted (the kit). */
  ours?: boolean
  plainCpuUs?: number
  safeCpuUs?: number
  plainRssMb?: number
  safeRssMb?: number
}

export interface ChartOptions {
  title: string
  /** Small print under the title: machine, Node, command. */
  subtitle: string
  /** A dashed line drawn across the memory panel (the target). */
  rssTargetMb?: number
  /** CPU per push of the ceiling: each CPU figure then also shows its multiple of it. */
  ceilingCpuUs?: number
}

const COLORS = { plain: '#4c78a8', safe: '#f58518', plainOurs: '#2a5d8f', safeOurs: '#c8580b' }
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

function format(value: number): string {
  return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10)
}

/** A scale maximum that leaves room for the figure after the longest bar. */
function niceMax(values: number[]): number {
  const max = Math.max(1, ...values)
  const step = 10 ** Math.floor(Math.log10(max))
  return Math.ceil((max * 1.15) / step) * step
}

/** Draws the chart and returns the SVG document. */
export function barChart(rows: readonly ChartRow[], options: ChartOptions): string {
  const labelWidth = 230
  const panelWidth = 360
  const gap = 40
  const top = 104
  const barHeight = 13
  const rowHeight = 2 * barHeight + 16
  const width = labelWidth + 2 * panelWidth + gap + 20
  const height = top + rows.length * rowHeight + 40
  const cpuMax = niceMax(rows.flatMap((r) => [r.plainCpuUs ?? 0, r.safeCpuUs ?? 0]))
  const rssMax = niceMax(rows.flatMap((r) => [r.plainRssMb ?? 0, r.safeRssMb ?? 0, options.rssTargetMb ?? 0]))
  const out: string[] = []
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`)
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(`<text x="12" y="24" font-size="16" font-weight="bold" fill="#222">${escape(options.title)}</text>`)
  out.push(`<text x="12" y="42" fill="#555">${escape(options.subtitle)}</text>`)

  const panels = [
    { x: labelWidth, title: 'CPU per push, µs (× the ceiling); lower is better', max: cpuMax, values: (r: ChartRow) => [r.plainCpuUs, r.safeCpuUs], cpu: true },
    { x: labelWidth + panelWidth + gap, title: 'peak RSS under load, MB; lower is better', max: rssMax, values: (r: ChartRow) => [r.plainRssMb, r.safeRssMb], cpu: false },
  ]
  for (const panel of panels) {
    out.push(`<text x="${panel.x}" y="${top - 16}" font-weight="bold" fill="#333">${escape(panel.title)}</text>`)
    out.push(`<line x1="${panel.x}" y1="${top - 6}" x2="${panel.x}" y2="${top + rows.length * rowHeight}" stroke="#999"/>`)
  }
  // Legend.
  out.push(`<rect x="12" y="56" width="12" height="10" fill="${COLORS.plain}"/><text x="28" y="65" fill="#333">明文 plain mode</text>`)
  out.push(`<rect x="140" y="56" width="12" height="10" fill="${COLORS.safe}"/><text x="156" y="65" fill="#333">安全 safe mode (AES)</text>`)

  rows.forEach((row, i) => {
    const y = top + i * rowHeight
    if (row.ours) out.push(`<rect x="4" y="${y - 4}" width="${width - 8}" height="${rowHeight - 4}" fill="#fff4d6"/>`)
    out.push(`<text x="${labelWidth - 10}" y="${y + barHeight + 5}" text-anchor="end" fill="#222"${row.ours ? ' font-weight="bold"' : ''}>${escape(row.label)}</text>`)
    for (const panel of panels) {
      const scale = panel.max > 0 ? (panelWidth - 70) / panel.max : 0
      panel.values(row).forEach((value, m) => {
        const by = y + m * barHeight
        if (value === undefined || !Number.isFinite(value)) return
        const color = m === 0 ? (row.ours ? COLORS.plainOurs : COLORS.plain) : row.ours ? COLORS.safeOurs : COLORS.safe
        const w = Math.max(1, value * scale)
        out.push(`<rect x="${panel.x}" y="${by}" width="${w.toFixed(1)}" height="${barHeight - 2}" fill="${color}"/>`)
        const times = panel.cpu && options.ceilingCpuUs ? ` (${(value / options.ceilingCpuUs).toFixed(1)}×)` : ''
        out.push(`<text x="${(panel.x + w + 4).toFixed(1)}" y="${by + barHeight - 3}" font-size="11" fill="#222">${format(value)}${times}</text>`)
      })
    }
  })

  if (options.rssTargetMb !== undefined) {
    const panel = panels[1]!
    const x = panel.x + options.rssTargetMb * ((panelWidth - 70) / panel.max)
    const bottom = top + rows.length * rowHeight
    out.push(`<line x1="${x.toFixed(1)}" y1="${top - 6}" x2="${x.toFixed(1)}" y2="${bottom}" stroke="#c0392b" stroke-dasharray="4 3"/>`)
    out.push(`<text x="${x.toFixed(1)}" y="${bottom + 14}" text-anchor="middle" font-size="11" fill="#c0392b">target ${options.rssTargetMb} MB</text>`)
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}
