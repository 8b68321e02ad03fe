import { escapeHtml } from '../../server/index.ts';
import type { Double11Result } from './double11.ts';
import { type Kind, kinds } from './double11-mix.ts';

/**
 * The drill's figures as one HTML page with inline SVG (no script, no font or file fetched): per
 * phase and kind, the requests a second offered split into admitted, shed and failed; the p99 of
 * each kind's admitted answers against the target; and the capacity search's steps.
 */
export function double11Chart(result: Double11Result): string {
  const floors = Object.entries(result.floors)
    .map(
      ([name, f]) =>
        `<li class="${f.holds ? 'ok' : 'ko'}">${f.holds ? '✓' : '✗'} ${escapeHtml(name)}: ${f.value} (${escapeHtml(f.bound)})</li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Paybao Double-11 drill</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328;max-width:1000px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:24px 0 6px}p{margin:4px 0;color:#555}
ul{list-style:none;padding:0;margin:8px 0;columns:2}li{margin:2px 0}.ok{color:#1a7f37}.ko{color:#cf222e;font-weight:600}
svg text{font-size:11px;fill:#333}svg .axis{stroke:#999}svg .grid{stroke:#eee}
</style></head><body>
<h1>Double-11 drill · ${escapeHtml(result.engine)}, ${result.cores} cores</h1>
<p>Capacity: <b>${result.capacity_paid_per_s}</b> paid trades/s with the payments' p99 under ${result.target_p99_ms} ms.
The mix (${kinds.map((k) => `${k} ${result.mix_percent[k]}%`).join(', ')}) offered at 1×, 2× and 3× that payment rate.</p>
<ul>${floors}</ul>
<h2>Requests a second, by phase and kind: admitted, shed, failed (the bar's height is what was offered)</h2>
${ratesSvg(result)}
<h2>p99 of the admitted answers, ms (dashed: the target)</h2>
${p99Svg(result)}
<h2>The capacity search: payments offered a second, and their p99</h2>
${searchSvg(result)}
</body></html>
`;
}

const colours = { admitted: '#2da44e', shed: '#d4a72c', failed: '#cf222e' } as const;
const kindColours: Record<Kind, string> = {
  pay: '#0969da',
  query: '#8250df',
  refund: '#bf3989',
  bill: '#1b7c83',
  page: '#953800',
};
const chartWidth = 960;
const height = 300;
const margin = { left: 60, right: 20, top: 16, bottom: 48 };

/** A chart's frame: the y axis from 0 to `yMax` with gridlines, and the plotting function `y`. */
function frame(yMax: number, unit: string): { svg: string; y: (v: number) => number; innerWidth: number } {
  const innerHeight = height - margin.top - margin.bottom;
  const y = (v: number) => margin.top + innerHeight - (Math.min(v, yMax) / yMax) * innerHeight;
  const ticks = niceTicks(yMax);
  const grid = ticks
    .map(
      (t) =>
        `<line class="grid" x1="${margin.left}" x2="${chartWidth - margin.right}" y1="${y(t)}" y2="${y(t)}"/>` +
        `<text x="${margin.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`,
    )
    .join('');
  const axis = `<line class="axis" x1="${margin.left}" x2="${chartWidth - margin.right}" y1="${y(0)}" y2="${y(0)}"/>`;
  const label = `<text x="12" y="${margin.top + 8}" >${escapeHtml(unit)}</text>`;
  return { svg: grid + axis + label, y, innerWidth: chartWidth - margin.left - margin.right };
}

function niceTicks(max: number): number[] {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough || 1));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? power * 10;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

const svg = (body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${chartWidth}" height="${height}" viewBox="0 0 ${chartWidth} ${height}">${body}</svg>`;

/** One bar's place: its left edge and width, and the chart's y scale. */
interface BarPlace {
  x: number;
  width: number;
  y: (v: number) => number;
}

/**
 * Groups of bars, one group per phase and one bar per kind, under the kinds' names and the
 * group's label; `bar` draws each bar's marks.
 */
function phaseBars(
  result: Double11Result,
  yMax: number,
  unit: string,
  bar: (phase: Double11Result['phases'][number], kind: Kind, place: BarPlace) => string,
  label: (phase: Double11Result['phases'][number]) => string,
): { body: string; y: (v: number) => number } {
  const { svg: axes, y, innerWidth } = frame(yMax, unit);
  const groupWidth = innerWidth / result.phases.length;
  const width = (groupWidth * 0.8) / kinds.length;
  let body = axes;
  result.phases.forEach((phase, g) => {
    kinds.forEach((kind, k) => {
      const x = margin.left + g * groupWidth + groupWidth * 0.1 + k * width;
      body += bar(phase, kind, { x, width, y });
      body += `<text x="${x + width / 2}" y="${y(0) + 13}" text-anchor="middle">${kind}</text>`;
    });
    const cx = margin.left + g * groupWidth + groupWidth / 2;
    body += `<text x="${cx}" y="${y(0) + 30}" text-anchor="middle" style="font-weight:600">${escapeHtml(label(phase))}</text>`;
  });
  return { body, y };
}

function ratesSvg(result: Double11Result): string {
  const yMax = Math.max(1, ...result.phases.flatMap((p) => kinds.map((k) => p.kinds[k].offered / p.seconds))) * 1.1;
  const { body } = phaseBars(
    result,
    yMax,
    'req/s',
    (phase, kind, { x, width, y }) => {
      const f = phase.kinds[kind];
      const parts = [
        ['admitted', f.admitted],
        ['shed', f.shed],
        ['failed', f.errors + f.timeouts + f.unsent],
      ] as const;
      let base = 0;
      let marks = '';
      for (const [part, n] of parts) {
        const v = n / phase.seconds;
        if (v > 0) {
          marks += `<rect x="${x + 1}" y="${y(base + v)}" width="${width - 2}" height="${y(base) - y(base + v)}" fill="${colours[part]}"><title>${kind} ${part} ${Math.round(v)}/s</title></rect>`;
        }
        base += v;
      }
      return marks;
    },
    (phase) => `${phase.multiple}× · paid ${phase.paid_per_s}/s of ${phase.pay_per_s_offered}/s`,
  );
  const legend = Object.entries(colours)
    .map(
      ([name, colour], i) =>
        `<rect x="${chartWidth - 250 + i * 80}" y="4" width="10" height="10" fill="${colour}"/><text x="${chartWidth - 236 + i * 80}" y="13">${name}</text>`,
    )
    .join('');
  return svg(body + legend);
}

function p99Svg(result: Double11Result): string {
  const yMax =
    Math.max(result.target_p99_ms * 1.5, ...result.phases.flatMap((p) => kinds.map((k) => p.kinds[k].p99_ms))) * 1.1;
  const { body, y } = phaseBars(
    result,
    yMax,
    'ms',
    (phase, kind, { x, width, y }) => {
      const f = phase.kinds[kind];
      if (f.admitted === 0) return '';
      return (
        `<rect x="${x + 1}" y="${y(f.p99_ms)}" width="${width - 2}" height="${y(0) - y(f.p99_ms)}" fill="${kindColours[kind]}"/>` +
        `<text x="${x + width / 2}" y="${y(f.p99_ms) - 3}" text-anchor="middle">${Math.round(f.p99_ms)}</text>`
      );
    },
    (phase) => `${phase.multiple}×`,
  );
  return svg(body + targetLine(result, y));
}

/** The target p99, dashed across a chart. */
const targetLine = (result: Double11Result, y: (v: number) => number) =>
  `<line x1="${margin.left}" x2="${chartWidth - margin.right}" y1="${y(result.target_p99_ms)}" y2="${y(result.target_p99_ms)}" stroke="#cf222e" stroke-dasharray="6 4"/>`;

function searchSvg(result: Double11Result): string {
  const steps = result.search;
  const yMax = Math.max(result.target_p99_ms * 1.5, ...steps.map((s) => s.pay_p99_ms)) * 1.1;
  const xMax = Math.max(1, ...steps.map((s) => s.pay_per_s_offered)) * 1.1;
  const { svg: axes, y, innerWidth } = frame(yMax, 'p99 ms');
  const x = (v: number) => margin.left + (v / xMax) * innerWidth;
  let body = axes;
  for (const t of niceTicks(xMax)) {
    body += `<text x="${x(t)}" y="${y(0) + 14}" text-anchor="middle">${t}</text>`;
  }
  body += `<text x="${margin.left + innerWidth / 2}" y="${y(0) + 32}" text-anchor="middle">payments offered a second</text>`;
  body += targetLine(result, y);
  steps.forEach((s, i) => {
    const colour = s.holds ? colours.admitted : colours.failed;
    body += `<circle cx="${x(s.pay_per_s_offered)}" cy="${y(s.pay_p99_ms)}" r="5" fill="${colour}"><title>step ${i + 1}: ${s.pay_per_s_offered}/s offered, ${s.paid_per_s}/s paid, p99 ${s.pay_p99_ms} ms</title></circle>`;
    body += `<text x="${x(s.pay_per_s_offered) + 7}" y="${y(s.pay_p99_ms) - 6}">${i + 1}</text>`;
  });
  return svg(body);
}
