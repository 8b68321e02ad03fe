/**
 * The wallet's Yu'e Bao page (`/wallet/fund`), server-rendered like the other wallet pages and
 * behind the same session cookie: the holdings, yesterday's and the total income, the 7-day
 * yield with a chart of its last 30 days (an SVG drawn here, no script), and the buy and redeem
 * forms, each showing the days the order would have before the user confirms. Every form carries
 * its CSRF token and an idempotency key of its own, so a double submit moves the money once.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CardView, isChannelError } from '../channels/index.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { type Fund, type FundOverview, isFundError, type OrderDays, type OrderView } from '../fund/index.ts';
import type { User } from '../members/index.ts';
import type { Wallet } from '../wallet/index.ts';
import { escapeHtml } from './html.ts';
import { alert, logoutForm, registerOwnerPage, walletPage } from './wallet-pages.ts';
import { csrfField, type WebSecurityOptions } from './web-security.ts';

export interface FundPagesDeps {
  wallet: Wallet;
  fund: Fund;
  /** The user's bound cards, to buy from by quick pay. */
  cards(userId: string): Promise<CardView[]>;
  security: WebSecurityOptions;
}

const path = '/wallet/fund';
const place = "余额宝 · Yu'e Bao";

type Body = {
  step?: string;
  phone?: string;
  password?: string;
  product_code?: string;
  amount?: string;
  kind?: string;
  /** `balance`, or `card:<card id>`. */
  pay_with?: string;
  idempotency_key?: string;
};

/** A message on the page: a refusal (alert) or what was done (notice). */
type Flash = { error?: string | undefined; notice?: string | undefined; form?: 'buy' | 'redeem' };

const sum = (values: string[]) => values.reduce((total, v) => total + (parseAmount(v) ?? 0n), 0n);
const percent = (p: number | undefined) => (p === undefined ? '—' : `${p.toFixed(4)}%`);

/**
 * The 7-day yield of the last days as an inline SVG line with its area: the highest and lowest
 * values on the left, the first and last day below. Days without a yield leave a gap.
 */
export function yieldChart(series: { day: string; percent?: number }[]): string {
  const width = 360;
  const height = 150;
  const pad = { left: 44, right: 10, top: 12, bottom: 24 };
  const known = series.filter((p) => p.percent !== undefined).map((p) => p.percent as number);
  if (known.length === 0)
    return '<div class="chart-empty muted" id="yield-chart">七日年化将在满七天收益后显示 · The 7-day yield shows once seven days of income are declared.</div>';
  let low = Math.min(...known);
  let high = Math.max(...known);
  if (high - low < 0.01) {
    low -= 0.05;
    high += 0.05;
  }
  const x = (i: number) => pad.left + (i * (width - pad.left - pad.right)) / Math.max(1, series.length - 1);
  const y = (v: number) => pad.top + ((high - v) * (height - pad.top - pad.bottom)) / (high - low);
  // Runs of consecutive days with a yield, each drawn as its own line.
  const runs: { i: number; v: number }[][] = [[]];
  series.forEach((p, i) => {
    if (p.percent !== undefined) runs.at(-1)?.push({ i, v: p.percent });
    else if (runs.at(-1)?.length) runs.push([]);
  });
  const bottom = height - pad.bottom;
  const shapes = runs
    .filter((r) => r.length > 0)
    .map((r) => {
      const line = r.map((p) => `${x(p.i).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
      const first = r[0] as { i: number };
      const last = r.at(-1) as { i: number };
      const area = `${x(first.i).toFixed(1)},${bottom} ${line} ${x(last.i).toFixed(1)},${bottom}`;
      return `<polygon class="area" points="${area}"/><polyline class="line" points="${line}"/>`;
    })
    .join('');
  const lastKnown = [...series].reverse().find((p) => p.percent !== undefined);
  const lastIndex = series.lastIndexOf(lastKnown as { day: string; percent?: number });
  const grid = [high, (high + low) / 2, low]
    .map(
      (v) =>
        `<line class="grid" x1="${pad.left}" x2="${width - pad.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>` +
        `<text class="axis" x="${pad.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${v.toFixed(2)}</text>`,
    )
    .join('');
  const days = `<text class="axis" x="${pad.left}" y="${height - 6}">${escapeHtml(series[0]?.day.slice(5) ?? '')}</text>
  <text class="axis" x="${width - pad.right}" y="${height - 6}" text-anchor="end">${escapeHtml(series.at(-1)?.day.slice(5) ?? '')}</text>`;
  const dot = lastKnown?.percent
    ? `<circle class="dot" cx="${x(lastIndex).toFixed(1)}" cy="${y(lastKnown.percent).toFixed(1)}" r="3.5"/>`
    : '';
  return `<svg id="yield-chart" class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="七日年化收益率 · 7-day yield, last ${series.length} days">
  <defs><linearGradient id="yield-fill" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#ff7d00" stop-opacity=".28"/><stop offset="1" stop-color="#ff7d00" stop-opacity="0"/></linearGradient></defs>
  ${grid}${shapes}${dot}${days}</svg>`;
}

function summaryCard(
  csrf: string,
  user: User,
  overview: FundOverview[],
  series: { day: string; percent?: number }[],
): string {
  const total = sum(overview.map((h) => h.shares)) + sum(overview.map((h) => h.redeeming));
  const pending = sum(overview.map((h) => h.toBeConfirmed));
  const first = overview[0];
  const yesterday = sum(overview.map((h) => h.yesterdayIncome));
  return `<div class="card">
  <div class="muted">总金额 (元) · Total holdings (yuan)</div>
  <div class="amount"><small>¥</small><span id="fund-total">${escapeHtml(formatAmount(total))}</span></div>
  ${pending > 0n ? `<div class="muted">待确认 · To be confirmed: ¥<span id="to-be-confirmed">${escapeHtml(formatAmount(pending))}</span></div>` : ''}
  <div class="stats">
    <div><div class="muted">昨日收益 · Yesterday</div><div class="stat up" id="yesterday-income">+${escapeHtml(formatAmount(yesterday))}</div></div>
    <div><div class="muted">累计收益 · Total income</div><div class="stat" id="total-income">${escapeHtml(formatAmount(sum(overview.map((h) => h.totalIncome))))}</div></div>
    <div><div class="muted">七日年化 · 7-day yield</div><div class="stat" id="seven-day-yield">${escapeHtml(percent(first?.sevenDayYield ?? series.at(-1)?.percent))}</div></div>
  </div>
  <div class="muted chart-title">七日年化收益率 (%) · 7-day yield, last ${series.length} days</div>
  ${yieldChart(series)}
  <div class="foot"><span class="muted">${escapeHtml(user.phone.replace(/^(\d{3})\d{4}(\d{4})$/, '$1****$2'))}</span>${logoutForm(csrf, path)}</div></div>`;
}

const productOptions = (products: { code: string; name: string }[]) =>
  products.map((p) => `<option value="${escapeHtml(p.code)}">${escapeHtml(p.name)}</option>`).join('');

/** Where a purchase's money comes from: the balance, or a bound card by quick pay. */
function payWithOptions(cards: readonly CardView[]): string {
  const active = cards.filter((c) => c.status === 'ACTIVE');
  return [
    '<option value="balance">余额 · Wallet balance</option>',
    ...active.map(
      (c) =>
        `<option value="card:${escapeHtml(c.cardId)}">${escapeHtml(c.bank)} 储蓄卡 (${escapeHtml(c.cardNo.slice(-4))}) · Card ending ${escapeHtml(c.cardNo.slice(-4))}</option>`,
    ),
  ].join('');
}

function buyForm(
  csrf: string,
  products: { code: string; name: string }[],
  cards: readonly CardView[],
  days: OrderDays,
  flash: Flash,
): string {
  return `<div class="card"><h2>买入 · Buy</h2>
  <form method="post" action="${path}">${csrf}<input type="hidden" name="step" value="buy">
  <input type="hidden" name="idempotency_key" value="fund-buy-${randomUUID()}">
  <label for="buy-product">产品 · Product</label><select id="buy-product" name="product_code">${productOptions(products)}</select>
  <label for="buy-amount">金额 (元) · Amount (yuan), at least ${escapeHtml(formatAmount(BigInt(limits.fundPurchaseFenMin)))}</label>
  <input id="buy-amount" name="amount" inputmode="decimal" placeholder="0.00" autocomplete="off" required>
  <label for="buy-pay-with">付款方式 · Pay with</label><select id="buy-pay-with" name="pay_with">${payWithOptions(cards)}</select>
  <div class="when" id="buy-when"><span>确认份额 · Confirmed on</span><strong>${escapeHtml(days.dueDay)}</strong></div>
  <div class="muted">交易日 ${escapeHtml(days.tradeDay)} · Shares earn from ${escapeHtml(days.dueDay)}; the first income shows the day after. 15:00 is the cut-off.</div>
  ${flash.form === 'buy' ? alert(flash.error) : ''}<button type="submit" id="buy">确认买入 · Confirm purchase</button></form></div>`;
}

function redeemForm(csrf: string, overview: FundOverview[], days: OrderDays, flash: Flash): string {
  const held = overview.filter((h) => (parseAmount(h.shares) ?? 0n) > 0n);
  if (held.length === 0) return '';
  const options = productOptions(held.map((h) => ({ code: h.productCode, name: `${h.productName} · ¥${h.shares}` })));
  const fastMax = formatAmount(BigInt(limits.fundFastRedemptionDailyFenMax));
  return `<div class="card"><h2>转出 · Redeem</h2>
  <form method="post" action="${path}">${csrf}<input type="hidden" name="step" value="redeem">
  <input type="hidden" name="idempotency_key" value="fund-redeem-${randomUUID()}">
  <label for="redeem-product">产品 · Product</label><select id="redeem-product" name="product_code">${options}</select>
  <label for="redeem-amount">金额 (元) · Amount (yuan)</label>
  <input id="redeem-amount" name="amount" inputmode="decimal" placeholder="0.00" autocomplete="off" required>
  <fieldset class="choices">
  <label class="choice"><input type="radio" name="kind" value="fast" id="redeem-fast" checked><span><strong>快速到账 · Fast</strong><br><span class="muted">At once, at most ¥${escapeHtml(fastMax)} a day</span></span></label>
  <label class="choice"><input type="radio" name="kind" value="standard" id="redeem-standard"><span><strong>普通到账 · Standard</strong><br><span class="muted">In your balance on <span id="redeem-when">${escapeHtml(days.dueDay)}</span>; earns until then</span></span></label>
  </fieldset>
  ${flash.form === 'redeem' ? alert(flash.error) : ''}<button type="submit" id="redeem">确认转出 · Confirm redemption</button></form></div>`;
}

const kindNames: Record<OrderView['kind'], string> = {
  PURCHASE: '买入 · Purchase',
  STANDARD: '转出 · Standard',
  FAST: '快速转出 · Fast',
  PAYMENT: '消费 · Payment',
  REFUND: '退款 · Refund',
};
const statusNames: Record<OrderView['status'], string> = {
  to_be_confirmed: '待确认 · to be confirmed',
  confirmed: '已确认 · confirmed',
  paid: '已到账 · paid',
};

function ordersCard(orders: OrderView[]): string {
  if (orders.length === 0) return '';
  const rows = orders
    .slice(0, 10)
    .map(
      (
        o,
      ) => `<li><span><strong>${escapeHtml(kindNames[o.kind])}</strong><br><span class="muted">${escapeHtml(o.kind === 'PURCHASE' || o.kind === 'STANDARD' ? `${statusNames[o.status]} · ${o.dueDay}` : statusNames[o.status])}</span></span>
      <span class="${o.kind === 'PURCHASE' ? 'minus' : 'plus'}">${o.kind === 'PURCHASE' ? '+' : '−'}${escapeHtml(o.amount)}</span></li>`,
    )
    .join('');
  return `<div class="card"><h2>交易记录 · Orders</h2><ul class="orders" id="orders">${rows}</ul></div>`;
}

async function fundPage(deps: FundPagesDeps, reply: FastifyReply, user: User, flash: Flash = {}): Promise<string> {
  const { fund } = deps;
  const [overview, products, days, orders, cards] = await Promise.all([
    fund.overview(user.userId),
    fund.catalog.products(),
    fund.orders.orderDays(),
    fund.orders.orders(user.userId),
    deps.cards(user.userId),
  ]);
  const chartProduct = overview[0]?.productCode ?? products[0]?.product_code;
  const series = chartProduct ? await fund.yieldHistory(chartProduct) : [];
  const csrf = csrfField(reply);
  const notice = flash.notice
    ? `<div class="notice card" role="status" id="notice">${escapeHtml(flash.notice)}</div>`
    : '';
  return walletPage(
    "Yu'e Bao",
    notice +
      summaryCard(csrf, user, overview, series) +
      buyForm(
        csrf,
        products.map((p) => ({ code: p.product_code, name: p.name })),
        cards,
        days,
        flash,
      ) +
      redeemForm(csrf, overview, days, flash) +
      ordersCard(orders),
  );
}

/** Mounts `/wallet/fund` (GET: login form or the fund page; POST: log in, buy, redeem, log out). */
export async function registerFundPages(app: FastifyInstance, deps: FundPagesDeps): Promise<void> {
  await registerOwnerPage<Body>(app, deps, {
    path,
    place,
    show: (reply, user) => fundPage(deps, reply, user),
    step: (request, reply, user, body) => order(deps, request, reply, user, body),
  });
}

/** A purchase or a redemption from the page; a refusal shows on its form and writes nothing. */
async function order(deps: FundPagesDeps, _request: FastifyRequest, reply: FastifyReply, user: User, body: Body) {
  const form = body.step === 'redeem' ? 'redeem' : 'buy';
  const input = {
    productCode: body.product_code ?? '',
    amount: (body.amount ?? '').trim(),
    idempotencyKey: body.idempotency_key ?? '',
  };
  const cardId = body.pay_with?.startsWith('card:') ? body.pay_with.slice('card:'.length) : undefined;
  try {
    const done =
      form === 'redeem'
        ? await deps.fund.orders.redeem(user.userId, { ...input, kind: body.kind === 'standard' ? 'standard' : 'fast' })
        : cardId === undefined
          ? await deps.fund.orders.purchase(user.userId, input)
          : await deps.fund.orders.purchaseFromCard(user.userId, { ...input, cardId });
    const notice =
      done.kind === 'PURCHASE'
        ? `买入成功 · Bought ¥${done.amount}: shares confirmed on ${done.dueDay}.`
        : done.kind === 'FAST'
          ? `转出成功 · ¥${done.amount} is in your balance.`
          : `转出成功 · ¥${done.amount} arrives in your balance on ${done.dueDay}.`;
    return fundPage(deps, reply, user, { notice });
  } catch (error) {
    // The card's bank speaks through the channels: an unknown card, a limit, a bank down.
    if (!isFundError(error) && !isChannelError(error)) throw error;
    return reply.code(400).send(await fundPage(deps, reply, user, { error: error.message, form }));
  }
}
