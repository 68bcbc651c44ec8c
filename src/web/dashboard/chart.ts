import { escapeHtml } from '../../core/text.js';

/**
 * Uploads per day as an inline SVG bar chart, drawn on the server (no script, no library):
 * one bar per day, the tallest reaching the top, with the maximum and the first and last
 * dates as labels. `label` is the accessible name; `days` come oldest first.
 */
export function barChartSvg(days: { day: string; count: number; title: string }[], label: string): string {
  const width = 600;
  const height = 160;
  const top = 16;
  const bottom = 20;
  const max = Math.max(1, ...days.map((d) => d.count));
  const step = width / Math.max(1, days.length);
  const bars = days
    .map((d, i) => {
      const h = Math.round(((height - top - bottom) * d.count) / max);
      const x = (i * step + 1).toFixed(1);
      const y = height - bottom - h;
      return `<rect x="${x}" y="${y}" width="${(step - 2).toFixed(1)}" height="${Math.max(h, d.count > 0 ? 1 : 0)}" class="bar"><title>${escapeHtml(d.title)}</title></rect>`;
    })
    .join('');
  const first = days[0]?.day ?? '';
  const last = days.at(-1)?.day ?? '';
  return (
    `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(label)}" preserveAspectRatio="none">` +
    `<line x1="0" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" class="axis"/>` +
    `<text x="2" y="11" class="chart-label">${max}</text>` +
    bars +
    `<text x="2" y="${height - 5}" class="chart-label">${escapeHtml(first)}</text>` +
    `<text x="${width - 2}" y="${height - 5}" class="chart-label" text-anchor="end">${escapeHtml(last)}</text>` +
    `</svg>`
  );
}
