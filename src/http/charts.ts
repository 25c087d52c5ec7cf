// Tiny server-side charts: SVG strings with a <title> and <desc> for screen readers, and the data
// table that goes beside every chart ("numbers beside every chart"), so nothing depends on seeing
// colours or on client-side code. Colours keep at least 3:1 contrast against white.
import { esc } from './html.ts';

export interface Series {
  name: string;
  values: number[];
}

export interface ChartInput {
  /** Unique on the page: the SVG's title and desc are referenced by id. */
  id: string;
  title: string;
  desc?: string;
  labels: string[];
  series: Series[];
  /** Bars only: stack the series instead of placing them side by side. */
  stacked?: boolean;
  /** Values are fractions shown as percentages on the axis. */
  percent?: boolean;
  /** Fixed top of the y axis (e.g. 5 for ratings); otherwise from the data. */
  yMax?: number;
}

export const PALETTE = ['#0b57d0', '#b54708', '#067647', '#b42318', '#6941c6', '#475467'];

const W = 640;
const H = 240;
const PAD = { top: 28, right: 12, bottom: 44, left: 44 };

/** A round number at or above `max`: 1, 2, 2.5 or 5 times a power of ten. For counts
 * (`integers`), one whose half is a whole number too, so no axis reads "2.5 messages". */
export function niceMax(max: number, integers = false): number {
  if (!(max > 0)) return integers ? 2 : 1;
  const p = 10 ** Math.floor(Math.log10(max));
  const steps = !integers
    ? [1, 2, 2.5, 5, 10]
    : p < 10
      ? [2, 4, 6, 8, 10]
      : [1, 2, 3, 4, 5, 6, 8, 10];
  return (steps.find((m) => m * p >= max) ?? 10) * p;
}

const allIntegers = (c: ChartInput) =>
  !c.percent &&
  c.series.every((s) => s.values.every((v) => !Number.isFinite(v) || Number.isInteger(v)));

const fmt = (v: number, percent?: boolean) =>
  percent ? `${Math.round(v * 100)}%` : Number.isInteger(v) ? String(v) : v.toFixed(1);

function frame(c: ChartInput, top: number, inner: string): string {
  const plotH = H - PAD.top - PAD.bottom;
  const plotW = W - PAD.left - PAD.right;
  const ticks = [0, 0.5, 1].map((f) => {
    const y = PAD.top + plotH * (1 - f);
    return `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#d0d5dd"/><text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end">${fmt(top * f, c.percent)}</text>`;
  });
  // Enough x labels to read, never so many that they overlap.
  const every = Math.max(1, Math.ceil(c.labels.length / 8));
  const step = plotW / Math.max(1, c.labels.length);
  const xLabels = c.labels
    .map((l, i) =>
      i % every === 0
        ? `<text x="${PAD.left + step * (i + 0.5)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${esc(l)}</text>`
        : '',
    )
    .join('');
  let lx = PAD.left;
  const legend = c.series
    .map((s, i) => {
      const x = lx;
      lx += 28 + s.name.length * 7;
      return `<rect x="${x}" y="6" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 16}" y="16">${esc(s.name)}</text>`;
    })
    .join('');
  const empty =
    c.labels.length === 0
      ? `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">No data yet</text>`
      : '';
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${c.id}-t${c.desc ? ` ${c.id}-d` : ''}" style="max-width:${W}px;font:13px system-ui,sans-serif;fill:#1d2330">
<title id="${c.id}-t">${esc(c.title)}</title>${c.desc ? `<desc id="${c.id}-d">${esc(c.desc)}</desc>` : ''}
${legend}${ticks.join('')}${inner}${xLabels}${empty}<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}" stroke="#4b5563"/></svg>`;
}

export function barChart(c: ChartInput): string {
  const totals = c.labels.map((_, i) => c.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const dataMax = c.stacked
    ? Math.max(0, ...totals)
    : Math.max(0, ...c.series.flatMap((s) => s.values));
  const top = c.yMax ?? niceMax(dataMax, allIntegers(c));
  const plotH = H - PAD.top - PAD.bottom;
  const step = (W - PAD.left - PAD.right) / Math.max(1, c.labels.length);
  const barW = Math.max(1, (step * 0.8) / (c.stacked ? 1 : Math.max(1, c.series.length)));
  const y = (v: number) => (Math.min(v, top) / top) * plotH;
  const bars: string[] = [];
  c.labels.forEach((label, i) => {
    let base = 0;
    c.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const h = y(v);
      const x = PAD.left + step * i + step * 0.1 + (c.stacked ? 0 : j * barW);
      const top0 = H - PAD.bottom - (c.stacked ? y(base) : 0) - h;
      if (v > 0)
        bars.push(
          `<rect x="${x.toFixed(1)}" y="${top0.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[j % PALETTE.length]}"><title>${esc(`${label}, ${s.name}: ${fmt(v, c.percent)}`)}</title></rect>`,
        );
      base += v;
    });
  });
  return frame(c, top, bars.join(''));
}

export function lineChart(c: ChartInput): string {
  const top =
    c.yMax ??
    niceMax(
      Math.max(0, ...c.series.flatMap((s) => s.values.filter(Number.isFinite))),
      allIntegers(c),
    );
  const plotH = H - PAD.top - PAD.bottom;
  const step = (W - PAD.left - PAD.right) / Math.max(1, c.labels.length);
  const lines = c.series.map((s, j) => {
    const colour = PALETTE[j % PALETTE.length];
    const pts = s.values
      .map((v, i) =>
        Number.isFinite(v)
          ? [PAD.left + step * (i + 0.5), H - PAD.bottom - (Math.min(v, top) / top) * plotH, v, i]
          : null,
      )
      .filter((p): p is number[] => p !== null);
    const path = pts
      .map((p, k) => `${k ? 'L' : 'M'}${p[0]!.toFixed(1)},${p[1]!.toFixed(1)}`)
      .join(' ');
    const dots = pts
      .map(
        (p) =>
          `<circle cx="${p[0]!.toFixed(1)}" cy="${p[1]!.toFixed(1)}" r="3.5" fill="${colour}"><title>${esc(`${c.labels[p[3]!] ?? ''}, ${s.name}: ${fmt(p[2]!, c.percent)}`)}</title></circle>`,
      )
      .join('');
    return `<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"/>${dots}`;
  });
  return frame(c, top, lines.join(''));
}

export interface TableInput {
  caption: string;
  columns: string[];
  rows: (string | number | null)[][];
}

export function dataTable(t: TableInput): string {
  const cell = (v: string | number | null, tag: 'td' | 'th') =>
    `<${tag}${tag === 'th' ? ' scope="row"' : ' class="num"'}>${v === null ? '–' : esc(v)}</${tag}>`;
  const head = t.columns
    .map((c, i) => `<th${i ? ' class="num"' : ''} scope="col">${esc(c)}</th>`)
    .join('');
  const body = t.rows
    .map((r) => `<tr>${r.map((v, i) => cell(v, i === 0 ? 'th' : 'td')).join('')}</tr>`)
    .join('');
  return `<div class="table-wrap"><table><caption>${esc(t.caption)}</caption><thead><tr>${head}</tr></thead><tbody>${body || `<tr><td colspan="${t.columns.length}">No data yet.</td></tr>`}</tbody></table></div>`;
}

/** A chart and its numbers, side by side on a wide screen and stacked on a phone. */
export function chartSection(heading: string, chart: string, table: string, note = ''): string {
  return `<section class="card"><h2 style="font-size:1.15rem;margin-top:0">${esc(heading)}</h2>${note ? `<p class="muted">${esc(note)}</p>` : ''}<div class="grid"><div>${chart}</div><div>${table}</div></div></section>`;
}
