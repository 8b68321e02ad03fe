/**
 * The server-rendered pages' one look (cashier, wallet): HTML escaping, the page shell, and its
 * stylesheet, served as a file of its own so that the pages' Content-Security-Policy can forbid
 * inline styles and scripts (see web-security.ts).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/**
 * Paybao's mark, a white P on the brand's blue, inline so that no page asks for `/favicon.ico`
 * (the pages' policy allows `data:` images). The apps' index.html files carry the same URI.
 */
const iconDataUri =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%231677ff'/%3E%3Cpath fill='%23fff' fill-rule='evenodd' d='M11 8h7a6 6 0 0 1 0 12h-3v5h-4zM15 12v4h3a2 2 0 0 0 0-4z'/%3E%3C/svg%3E";

const stylesheet = `  :root { --blue: #1677ff; --ink: #1f2329; --muted: #646a73; --line: #e5e6eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif;
         color: var(--ink); background: linear-gradient(180deg, #eaf2ff 0, #f5f7fa 240px); min-height: 100vh; }
  header { padding: 20px 24px; font-weight: 700; font-size: 20px; color: var(--blue); letter-spacing: .5px; }
  main { max-width: 420px; margin: 24px auto; padding: 0 16px; }
  .card { background: #fff; border-radius: 14px; box-shadow: 0 6px 24px rgba(22,119,255,.08); padding: 28px; }
  .amount { font-size: 40px; font-weight: 700; margin: 4px 0 2px; }
  .amount small { font-size: 20px; margin-right: 4px; }
  .muted { color: var(--muted); font-size: 13px; }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 6px 16px; margin: 20px 0; padding: 16px 0;
       border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); font-size: 14px; }
  dt { color: var(--muted); } dd { margin: 0; text-align: right; overflow-wrap: anywhere; min-width: 0; }
  dt .en { display: block; font-size: 11px; line-height: 1.2; }
  dd.num { font-size: 13px; font-variant-numeric: tabular-nums; letter-spacing: 0; }
  .payee { font-size: 14px; margin-bottom: 6px; } .payee strong { color: var(--ink); }
  label { display: block; font-size: 13px; color: var(--muted); margin: 14px 0 6px; }
  input, select, button { font-family: inherit; }
  input, select { width: 100%; padding: 12px 14px; border: 1px solid var(--line); border-radius: 10px; font-size: 16px;
                  background: #fff; }
  input:focus, select:focus { outline: 2px solid rgba(22,119,255,.25); border-color: var(--blue); }
  button { width: 100%; margin-top: 22px; padding: 13px; border: 0; border-radius: 10px; background: #0958d9;
           color: #fff; font-size: 17px; font-weight: 600; cursor: pointer; }
  button + button { margin-top: 10px; }
  button.secondary { background: #fff; color: var(--blue); border: 1px solid var(--blue); }
  button.link { width: auto; margin: 0; padding: 0; background: none; color: var(--blue); font-size: 13px; font-weight: 400; }
  .error { background: #fff1f0; color: #cf1322; border-radius: 8px; padding: 10px 12px; margin-top: 16px; font-size: 14px; }
  .done { text-align: center; } .done .tick { font-size: 48px; color: #00b42a; }
  .result { text-align: center; } .result .icon { font-size: 48px; }
  .SUCCESS .icon { color: #00b42a; } .FAILED .icon { color: #cf1322; } .pending .icon { color: #ff7d00; }
  a { color: var(--blue); }
  .foot { display: flex; justify-content: space-between; align-items: center; margin-top: 18px; }
  .center { text-align: center; }
  .nowrap { white-space: nowrap; }
  .card + .card { margin-top: 16px; }
  h2 { font-size: 17px; margin: 0 0 4px; }
  .notice { background: #f0fff4; color: #00873a; padding: 14px 18px; font-size: 14px; }
  .stats { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; margin: 18px 0 8px; padding: 14px 0;
           border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); }
  .stat { font-size: 18px; font-weight: 600; margin-top: 2px; } .up { color: #f53f3f; }
  .chart-title { margin-top: 14px; }
  .chart { display: block; width: 100%; height: auto; margin-top: 6px; }
  .chart .line { fill: none; stroke: #ff7d00; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
  .chart .area { fill: url(#yield-fill); stroke: none; }
  .chart .dot { fill: #fff; stroke: #ff7d00; stroke-width: 2; }
  .chart .grid { stroke: var(--line); stroke-dasharray: 3 3; }
  .chart .axis { fill: var(--muted); font-size: 10px; }
  .chart-empty { padding: 28px 0; text-align: center; }
  .when { display: flex; justify-content: space-between; align-items: baseline; margin: 16px 0 4px; padding: 12px 14px;
          background: #fff7e8; border-radius: 10px; font-size: 14px; } .when strong { color: #d25f00; font-size: 16px; }
  fieldset.choices { border: 0; padding: 0; margin: 14px 0 0; display: grid; gap: 8px; }
  label.choice { display: flex; gap: 10px; align-items: flex-start; margin: 0; padding: 12px 14px; border: 1px solid var(--line);
                 border-radius: 10px; color: var(--ink); font-size: 14px; cursor: pointer; }
  label.choice input { width: auto; margin-top: 3px; }
  ul.orders { list-style: none; padding: 0; margin: 8px 0 0; }
  ul.orders li { display: flex; justify-content: space-between; align-items: center; padding: 10px 0; border-bottom: 1px solid var(--line);
                 font-size: 14px; } ul.orders li:last-child { border-bottom: 0; }
  .plus { color: #00873a; font-weight: 600; } .minus { color: var(--ink); font-weight: 600; }
`;

/** The stylesheet's address names its content, so that it can be cached for good. */
export const stylesheetPath = `/assets/pages-${createHash('sha256').update(stylesheet).digest('hex').slice(0, 12)}.css`;

/** Serves the pages' stylesheet. */
export function registerPageAssets(app: FastifyInstance): void {
  app.get(stylesheetPath, async (_request, reply) =>
    reply
      .type('text/css; charset=utf-8')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(stylesheet),
  );
}

/** A whole page: the shared stylesheet, a header naming the place, and the body in a narrow column. */
export function page(place: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Paybao</title>
<link rel="icon" href="${iconDataUri}"><link rel="stylesheet" href="${stylesheetPath}"></head>
<body><header>${escapeHtml(place)}</header><main>${body}</main></body></html>`;
}
