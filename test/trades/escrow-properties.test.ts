/**
 * Property tests of escrow trades: random interleavings of pay, ship, confirm, refund requests
 * and the seller's answers, returns, withdrawals, disputes and rulings, merchant refunds, time
 * passing (with the escrow and after-sale sweeps), settlements and splits, over a few trades of
 * one marketplace, some commands run concurrently. Then targeted races on one trade.
 *
 * After every command the books are checked against the trades' records:
 * - a refused command throws TradeError and moves no money;
 * - escrow = what trades still in escrow hold; fee income = the fees of released trades; the fund
 *   = its capital less what recovery claims still owe; the seller's unsettled proceeds, wallet,
 *   every buyer and every split receiver hold exactly what the trades, settlements, rulings and
 *   splits say;
 * - per trade: refunds + fee + splits ≤ total, released at most once (one transition, one release
 *   and one fee transfer), and the ledger's transfers of the trade sum to its records;
 * - the case flag of a trade in escrow is up exactly while a case or dispute waits on someone.
 * Each run ends by settling everything (disputes ruled, cases ended, goods shipped, time passed,
 * sweeps, settlement): nothing is left in flight or in escrow, and the run's accounts together
 * hold what they held at the start plus the fund capital moved in.
 *
 * One platform for the file; each run gets a fresh marketplace (app, buyers, receivers), and the
 * runs do not overlap since each one ends with nothing in escrow.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { derivedId, uuidFromU128 } from '../../src/core/ids.ts';
import { EscrowTransferCode } from '../../src/core/ledger-codes.ts';
import { formatAmount } from '../../src/core/money.ts';
import type { Platform } from '../../src/platform.ts';
import { type Actor, escrowAccounts, TradeError, unsettledAccountOf } from '../../src/trades/index.ts';
import type { TradeRow } from '../../src/trades/trade/store.ts';
import { usePlatform } from '../support/engine.ts';
import { day, type Marketplace, marketplace } from './escrow-support.ts';

const clock = new ManualClock();
const platform = usePlatform({ clock });

const TRADES = 3;
const BUYERS = 2;
const inEscrow = ['WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_CONFIRM_GOODS'];
const activeCase = ['WAIT_SELLER_AGREE', 'WAIT_BUYER_RETURN_GOODS', 'WAIT_SELLER_CONFIRM_GOODS', 'REFUNDING'];
const openDispute = ['WAIT_SELLER_EVIDENCE', 'WAIT_RULING', 'RULING'];

// ---------------------------------------------------------------------------------------------
// Commands

/** A share of an amount: 1..100 percent, or 150 (more than there is). */
type Pct = number;

type Cmd =
  | { k: 'pay' | 'ship' | 'confirm' | 'agree' | 'refuse' | 'returnGoods' | 'receiveReturn' | 'withdraw'; t: number }
  | { k: 'answer'; t: number }
  | { k: 'request'; t: number; pct: Pct; needReturn: boolean }
  | { k: 'dispute'; t: number; pct: Pct | null }
  | { k: 'rule'; t: number; decision: 'BUYER' | 'SELLER'; pct: Pct | null }
  | { k: 'merchantRefund'; t: number; pct: Pct; req: number }
  | { k: 'split'; t: number; shape: 'halves' | 'third' | 'fixed'; pct: Pct; req: number }
  | { k: 'time'; days: number }
  | { k: 'settle' }
  | { k: 'together'; cmds: Cmd[] }
  /** A move the trade's parties could make now, chosen by `r` when the command runs. */
  | { k: 'next'; t: number; r: number; pct: Pct };

const tradeArb = fc.nat(TRADES - 1);
const pctArb = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 100 }) }, fc.constant(150));
const on = <K extends Cmd['k']>(k: K) => tradeArb.map((t) => ({ k, t }) as Cmd);

const singleArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: on('pay') },
  { weight: 4, arbitrary: on('ship') },
  { weight: 4, arbitrary: on('confirm') },
  {
    weight: 6,
    arbitrary: fc
      .record({ t: tradeArb, pct: pctArb, needReturn: fc.boolean() })
      .map((r) => ({ k: 'request', ...r }) as Cmd),
  },
  { weight: 3, arbitrary: on('agree') },
  { weight: 3, arbitrary: on('refuse') },
  { weight: 2, arbitrary: on('returnGoods') },
  { weight: 2, arbitrary: on('receiveReturn') },
  { weight: 2, arbitrary: on('withdraw') },
  {
    weight: 4,
    arbitrary: fc.record({ t: tradeArb, pct: fc.option(pctArb) }).map((r) => ({ k: 'dispute', ...r }) as Cmd),
  },
  { weight: 2, arbitrary: on('answer') },
  {
    weight: 4,
    arbitrary: fc
      .record({ t: tradeArb, decision: fc.constantFrom('BUYER', 'SELLER'), pct: fc.option(pctArb) })
      .map((r) => ({ k: 'rule', ...r }) as Cmd),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ t: tradeArb, pct: pctArb, req: fc.nat(2) })
      .map((r) => ({ k: 'merchantRefund', ...r }) as Cmd),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(0.5, 1, 2, 3, 4, 8, 16).map((days) => ({ k: 'time', days }) as Cmd),
  },
  { weight: 2, arbitrary: fc.constant({ k: 'settle' } as Cmd) },
  {
    weight: 2,
    arbitrary: fc
      .record({ t: tradeArb, shape: fc.constantFrom('halves', 'third', 'fixed'), pct: pctArb, req: fc.nat(1) })
      .map((r) => ({ k: 'split', ...r }) as Cmd),
  },
);

const nextArb: fc.Arbitrary<Cmd> = fc
  .record({ t: tradeArb, r: fc.nat(99), pct: fc.integer({ min: 1, max: 100 }) })
  .map((x) => ({ k: 'next', ...x }) as Cmd);

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 10, arbitrary: nextArb },
  { weight: 8, arbitrary: singleArb },
  {
    // Several moves at once, on one trade.
    weight: 2,
    arbitrary: fc
      .tuple(tradeArb, fc.array(fc.oneof(nextArb, singleArb), { minLength: 2, maxLength: 4 }))
      .map(([t, cmds]) => ({ k: 'together', cmds: cmds.map((c) => ('t' in c ? { ...c, t } : c)) }) as Cmd),
  },
);

const scenarioArb = fc.record({
  feeBps: fc.constantFrom(0, 60, 100, 333),
  confirmDays: fc.integer({ min: 2, max: 10 }),
  trades: fc.array(
    fc.record({
      fen: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 301, max: 60_000 })),
      buyer: fc.nat(BUYERS - 1),
      stage: fc.constantFrom('unpaid', 'paid', 'shipped', 'shipped', 'shipped'),
    }),
    { minLength: TRADES, maxLength: TRADES },
  ),
  commands: fc.array(cmdArb, { minLength: 20, maxLength: 36 }),
});

function describeCmd(c: Cmd): string {
  if (c.k === 'together') return `together(${c.cmds.map(describeCmd).join(', ')})`;
  const { k, ...rest } = c;
  return `${k}${JSON.stringify(rest)}`;
}

// ---------------------------------------------------------------------------------------------
// A run's world: one marketplace, its buyers, receivers and trades

interface World {
  p: Platform;
  shop: Marketplace;
  buyers: { userId: string; actor: Actor; wallet: bigint; initial: bigint }[];
  receivers: { userId: string; wallet: bigint }[];
  sellerWallet: bigint;
  trades: { tradeNo: string; buyer: number }[];
  /** Every account whose balance the run may move, the platform's funding account among them. */
  accounts: bigint[];
  funding: bigint;
  start: Map<bigint, bigint>;
  log: string[];
  tracking: number;
}

async function newWorld(
  p: Platform,
  options: { feeBps: number; confirmDays: number; buyerBalance?: string; receivers?: number },
): Promise<World> {
  const shop = await marketplace(p, options);
  const buyers = [];
  for (let i = 0; i < BUYERS; i++) {
    const b = await shop.buyer(options.buyerBalance ?? '1000.00');
    const m = await p.members.getMember(b.userId);
    buyers.push({ ...b, wallet: m.walletAccountId, initial: await balanceOf(p, m.walletAccountId) });
  }
  const receivers = [];
  for (let i = 0; i < (options.receivers ?? 3); i++) {
    const r = await shop.buyer('0.00');
    receivers.push({ userId: r.userId, wallet: (await p.members.getMember(r.userId)).walletAccountId });
  }
  const sellerWallet = (await p.members.getMember(shop.sellerId)).walletAccountId;
  const funding = await p.members.fundingAccountId();
  const accounts = [
    ...buyers.map((b) => b.wallet),
    ...receivers.map((r) => r.wallet),
    sellerWallet,
    unsettledAccountOf(shop.sellerId),
    escrowAccounts.escrow,
    escrowAccounts.feeIncome,
    escrowAccounts.compensationFund,
    funding,
  ];
  const w: World = {
    p,
    shop,
    buyers,
    receivers,
    sellerWallet,
    trades: [],
    accounts,
    funding,
    start: new Map(),
    log: [],
    tracking: 0,
  };
  w.start = await balances(w);
  return w;
}

async function balanceOf(p: Platform, id: bigint): Promise<bigint> {
  const [a] = await p.ledger.lookupAccounts([id]);
  return (a?.creditsPosted ?? 0n) - (a?.debitsPosted ?? 0n);
}

async function balances(w: World): Promise<Map<bigint, bigint>> {
  const found = await w.p.ledger.lookupAccounts(w.accounts);
  const map = new Map<bigint, bigint>(w.accounts.map((id) => [id, 0n]));
  for (const a of found) map.set(a.id, a.creditsPosted - a.debitsPosted);
  return map;
}

async function createTrade(w: World, buyer: number, fen: number, stage: 'unpaid' | 'paid' | 'shipped') {
  const p = w.p;
  const t = await p.trades.create({
    appId: w.shop.appId,
    outTradeNo: `p-${w.trades.length}-${Date.now()}`,
    totalAmount: formatAmount(BigInt(fen)),
    subject: 'goods',
  });
  w.trades.push({ tradeNo: t.tradeNo, buyer });
  const b = w.buyers[buyer];
  if (stage !== 'unpaid' && b) {
    // A buyer short of money leaves the trade unpaid.
    const paid = await p.trades.pay(w.shop.appId, { tradeNo: t.tradeNo }, b.userId).catch(refusal);
    if (paid && stage === 'shipped')
      await p.escrow.ship(w.shop.seller, { tradeNo: t.tradeNo }, { company: 'SF', trackingNo: `SF${++w.tracking}` });
  }
  return t.tradeNo;
}

/** A refusal is a TradeError; anything else is a failure. */
function refusal(error: unknown): undefined {
  if (error instanceof TradeError) return undefined;
  throw error;
}

async function tradeRow(p: Platform, tradeNo: string): Promise<TradeRow> {
  const [row] = await p.db.query<TradeRow>('select * from trades where trade_no = $1', [tradeNo]);
  if (!row) throw new Error(`no trade ${tradeNo}`);
  return row;
}

/** `pct` percent of `whole` (at least one fen), or one fen more than `whole` for 150. */
function share(whole: bigint, pct: Pct): bigint {
  if (pct > 100) return whole + 1n;
  const part = (whole * BigInt(pct)) / 100n;
  return part > 0n ? part : 1n;
}

/** The trade's case that is not over, or else (unless `open`) its latest one. */
async function caseOf(p: Platform, tradeNo: string, open = false): Promise<string | undefined> {
  const [row] = await p.db.query<{ case_no: string; over: boolean }>(
    `select case_no, status in ('REFUND_SUCCESS', 'REFUND_CLOSED') as over from refund_cases where trade_no = $1
     order by over, created_at desc, case_no desc limit 1`,
    [tradeNo],
  );
  return row && !(open && row.over) ? row.case_no : undefined;
}

/** The trade's open dispute, or else (unless `open`) its latest one. */
async function disputeOf(
  p: Platform,
  tradeNo: string,
  open = false,
): Promise<{ dispute_no: string; claim_fen: bigint } | undefined> {
  const [row] = await p.db.query<{ dispute_no: string; claim_fen: bigint; over: boolean }>(
    `select dispute_no, claim_fen, status not in ('WAIT_SELLER_EVIDENCE', 'WAIT_RULING', 'RULING') as over
     from disputes where trade_no = $1 order by over, created_at desc, dispute_no desc limit 1`,
    [tradeNo],
  );
  return row && !(open && row.over) ? row : undefined;
}

/** Runs one command; 'skip' when it names a case or dispute that does not exist. */
async function exec(w: World, c: Cmd): Promise<'done' | 'skip'> {
  const { p, shop } = w;
  if (c.k === 'time') {
    clock.advanceMs(c.days * day);
    await p.escrow.sweep();
    await p.afterSale.sweep();
    await p.royalties.sweep();
    return 'done';
  }
  if (c.k === 'settle') {
    await p.settlements.run();
    return 'done';
  }
  if (c.k === 'together') {
    const picked = await Promise.all(c.cmds.map((x) => (x.k === 'next' ? choose(w, x) : x)));
    const chosen = picked;
    const results = await Promise.allSettled(chosen.map((x) => exec(w, x)));
    w.log.push(`  at once: ${chosen.map((x, i) => `${describeCmd(x)} → ${outcomeOf(results[i])}`).join('; ')}`);
    for (const r of results) if (r.status === 'rejected') refusal(r.reason);
    return 'done';
  }
  if (c.k === 'next') return exec(w, await choose(w, c));
  const trade = w.trades[c.t % w.trades.length];
  const buyer = trade && w.buyers[trade.buyer];
  if (!trade || !buyer) throw new Error('invariant: the run has its trades');
  const tradeNo = trade.tradeNo;
  switch (c.k) {
    case 'pay':
      await p.trades.pay(shop.appId, { tradeNo }, buyer.userId);
      return 'done';
    case 'ship':
      await p.escrow.ship(shop.seller, { tradeNo }, { company: 'SF', trackingNo: `SF${++w.tracking}` });
      return 'done';
    case 'confirm':
      await p.escrow.confirmReceipt(buyer.actor, { tradeNo });
      return 'done';
    case 'request': {
      const row = await tradeRow(p, tradeNo);
      const amount = share(row.total_fen - row.refunded_fen, c.pct);
      await p.afterSale.requestRefund(
        buyer.actor,
        { tradeNo },
        { amount: formatAmount(amount), reason: 'not as described', needReturn: c.needReturn },
      );
      return 'done';
    }
    case 'merchantRefund': {
      const row = await tradeRow(p, tradeNo);
      const amount = share(row.total_fen - row.refunded_fen, c.pct);
      await p.trades.refund(shop.appId, { tradeNo }, { refundAmount: formatAmount(amount), outRequestNo: `m${c.req}` });
      return 'done';
    }
    case 'dispute': {
      const row = await tradeRow(p, tradeNo);
      const claim = c.pct === null ? undefined : formatAmount(share(row.total_fen - row.refunded_fen, c.pct));
      await p.afterSale.openDispute(buyer.actor, { tradeNo }, { claimAmount: claim, reason: 'fake goods' });
      return 'done';
    }
    case 'answer':
    case 'rule': {
      const d = await disputeOf(p, tradeNo);
      if (!d) return 'skip';
      if (c.k === 'answer') await p.afterSale.answer(shop.seller, d.dispute_no, 'photos of the parcel');
      else
        await p.afterSale.rule(shop.operator, d.dispute_no, {
          decision: c.decision,
          awardAmount: c.pct === null ? undefined : formatAmount(share(d.claim_fen, c.pct)),
        });
      return 'done';
    }
    case 'split': {
      const row = await tradeRow(p, tradeNo);
      const [r1, r2, r3] = w.receivers;
      if (!r1 || !r2 || !r3) throw new Error('invariant: three receivers');
      const left = row.total_fen - row.refunded_fen - row.fee_fen - row.royalty_fen;
      const parameters =
        c.shape === 'halves'
          ? [
              { transIn: r1.userId, amountPercentage: '50' },
              { transIn: r2.userId, amountPercentage: '50' },
            ]
          : c.shape === 'third'
            ? [{ transIn: r3.userId, amountPercentage: '33.3333' }]
            : [{ transIn: r1.userId, amount: formatAmount(share(left > 0n ? left : 1n, c.pct)) }];
      await p.royalties.settle(shop.appId, { tradeNo }, { outRequestNo: `s${c.req}`, parameters });
      return 'done';
    }
    default: {
      const caseNo = await caseOf(p, tradeNo);
      if (!caseNo) return 'skip';
      if (c.k === 'agree') await p.afterSale.agree(shop.seller, caseNo);
      else if (c.k === 'refuse') await p.afterSale.refuse(shop.seller, caseNo, 'it was fine');
      else if (c.k === 'returnGoods')
        await p.afterSale.returnGoods(buyer.actor, caseNo, { company: 'YTO', trackingNo: `YT${++w.tracking}` });
      else if (c.k === 'receiveReturn') await p.afterSale.receiveReturn(shop.seller, caseNo);
      else if (c.k === 'withdraw') await p.afterSale.withdraw(buyer.actor, caseNo);
      else throw new Error(`unknown command ${describeCmd(c)}`);
      return 'done';
    }
  }
}

function outcomeOf(r: PromiseSettledResult<string> | undefined): string {
  if (r?.status === 'fulfilled') return r.value;
  return r?.reason instanceof TradeError ? `refused ${r.reason.code}` : `THREW ${String(r?.reason)}`;
}

/** Picks, by `r`, one of the moves the parties of the trade could make in its present state. */
async function choose(w: World, c: Extract<Cmd, { k: 'next' }>): Promise<Cmd> {
  const { p } = w;
  const tradeNo = w.trades[c.t % w.trades.length]?.tradeNo ?? '';
  const row = await tradeRow(p, tradeNo);
  const [kase] = await p.db.query<{ status: string }>(
    `select status from refund_cases where trade_no = $1 and status not in ('REFUND_SUCCESS', 'REFUND_CLOSED')`,
    [tradeNo],
  );
  const [dispute] = await p.db.query<{ status: string }>(
    `select status from disputes where trade_no = $1 and status = any($2::text[])`,
    [tradeNo, openDispute],
  );
  const { t, pct } = c;
  const award = c.r % 3 === 0 ? null : pct;
  const moves: Cmd[] = [];
  if (dispute) {
    moves.push({ k: 'answer', t }, { k: 'rule', t, decision: 'BUYER', pct: award });
    moves.push({ k: 'rule', t, decision: 'SELLER', pct: null }, { k: 'rule', t, decision: 'BUYER', pct: null });
    if (kase) moves.push({ k: 'agree', t }, { k: 'withdraw', t });
  } else if (kase?.status === 'WAIT_SELLER_AGREE') {
    moves.push({ k: 'agree', t }, { k: 'refuse', t }, { k: 'withdraw', t }, { k: 'dispute', t, pct: null });
  } else if (kase?.status === 'WAIT_BUYER_RETURN_GOODS') {
    moves.push({ k: 'returnGoods', t }, { k: 'withdraw', t }, { k: 'merchantRefund', t, pct, req: c.r % 3 });
  } else if (kase?.status === 'WAIT_SELLER_CONFIRM_GOODS') {
    moves.push({ k: 'receiveReturn', t });
  } else if (kase?.status === 'SELLER_REFUSE_BUYER') {
    moves.push({ k: 'dispute', t, pct: award }, { k: 'withdraw', t }, { k: 'confirm', t }, { k: 'time', days: 4 });
  } else if (row.status === 'WAIT_BUYER_PAY') {
    moves.push({ k: 'pay', t });
  } else if (row.status === 'WAIT_SELLER_SEND_GOODS') {
    moves.push({ k: 'ship', t }, { k: 'ship', t }, { k: 'request', t, pct, needReturn: false });
    moves.push({ k: 'merchantRefund', t, pct, req: c.r % 3 });
  } else if (row.status === 'WAIT_BUYER_CONFIRM_GOODS') {
    moves.push({ k: 'confirm', t }, { k: 'request', t, pct, needReturn: c.r % 2 === 0 });
    moves.push({ k: 'request', t, pct, needReturn: c.r % 2 === 1 }, { k: 'dispute', t, pct: award });
    moves.push({ k: 'merchantRefund', t, pct, req: c.r % 3 }, { k: 'time', days: 4 });
  } else if (row.status === 'TRADE_FINISHED') {
    moves.push({ k: 'dispute', t, pct: award }, { k: 'settle' });
    moves.push({
      k: 'split',
      t,
      shape: (['halves', 'third', 'fixed'] as const)[c.r % 3] ?? 'fixed',
      pct,
      req: c.r % 2,
    });
  } else {
    moves.push({ k: 'time', days: 1 });
  }
  return moves[c.r % moves.length] ?? { k: 'settle' };
}

/** What a refused command must leave alone: every balance, and every trade's money columns. */
async function moneyState(w: World): Promise<unknown> {
  const trades = await w.p.db.query(
    `select trade_no, refunded_fen, refund_reserved_fen, fee_fen, royalty_fen, royalty_reserved_fen, settlement_no
     from trades where app_id = $1 order by trade_no`,
    [w.shop.appId],
  );
  return { balances: [...(await balances(w)).entries()], trades };
}

/** Runs a command, checks a refusal moved nothing, logs the outcome. */
async function step(w: World, c: Cmd): Promise<void> {
  if (c.k === 'next') return step(w, await choose(w, c));
  const single = c.k !== 'together' && c.k !== 'time' && c.k !== 'settle';
  const before = single ? await moneyState(w) : undefined;
  let outcome: string;
  try {
    outcome = await exec(w, c);
  } catch (error) {
    if (!(error instanceof TradeError)) {
      w.log.push(`${describeCmd(c)} → THREW ${String(error)}`);
      throw error;
    }
    outcome = `refused ${error.code}`;
    w.log.push(`${describeCmd(c)} → ${outcome}`);
    if (process.env.ESCROW_PROPERTY_LOG) console.log(`${describeCmd(c)} → ${outcome}`);
    if (single) expect(await moneyState(w), `a refused ${describeCmd(c)} moved money`).toEqual(before);
    return;
  }
  w.log.push(`${describeCmd(c)} → ${outcome}`);
  if (process.env.ESCROW_PROPERTY_LOG) console.log(`${describeCmd(c)} → ${outcome}`);
}

// ---------------------------------------------------------------------------------------------
// The books

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

/** Checks every invariant of the platform's escrow books and of this world's trades. */
async function checkBooks(w: World, quiet = true): Promise<void> {
  const { p, shop } = w;
  const bal = await balances(w);
  const at = (id: bigint) => bal.get(id) ?? 0n;

  // Platform-wide: escrow, fee income, fund.
  const [g] = await p.db.query<{ in_escrow: bigint; fees: bigint; in_flight: bigint; reserved: bigint }>(
    `select coalesce(sum(total_fen - refunded_fen) filter (where status in ('WAIT_SELLER_SEND_GOODS',
         'WAIT_BUYER_CONFIRM_GOODS')), 0)::int8 as in_escrow,
       coalesce(sum(fee_fen) filter (where status = 'TRADE_FINISHED'), 0)::int8 as fees,
       count(*) filter (where status in ('PAYING', 'RELEASING'))::int8 as in_flight,
       count(*) filter (where refund_reserved_fen <> 0 or royalty_reserved_fen <> 0)::int8 as reserved
     from trades where escrow`,
  );
  if (!g) throw new Error('invariant: an aggregate has a row');
  if (quiet) {
    expect(g.in_flight, 'trades left PAYING or RELEASING').toBe(0n);
    expect(g.reserved, 'refunds or splits left reserved').toBe(0n);
  }
  expect(at(escrowAccounts.escrow), 'escrow = what the trades in escrow hold').toBe(g.in_escrow);
  expect(at(escrowAccounts.feeIncome), 'fee income = the fees of released trades').toBe(g.fees);
  const [f] = await p.db.query<{ capital: bigint; owed: bigint; compensated: bigint; awarded: bigint }>(
    `select (select coalesce(sum(amount), 0)::int8 from ledger_transfers where code = $1) as capital,
       (select coalesce(sum(amount), 0)::int8 from ledger_transfers where code = $2) as compensated,
       (select coalesce(sum(amount_fen - recovered_fen), 0)::int8 from recovery_claims) as owed,
       (select coalesce(sum(award_fen), 0)::int8 from disputes
        where paid_from = 'fund' and status = 'RULED_FOR_BUYER') as awarded`,
    [EscrowTransferCode.fundCapital, EscrowTransferCode.compensation],
  );
  if (!f) throw new Error('invariant: an aggregate has a row');
  expect(f.compensated, 'the fund paid exactly the awards ruled on it').toBe(f.awarded);
  expect(at(escrowAccounts.compensationFund), 'fund = capital less what recovery claims still owe').toBe(
    f.capital - f.owed,
  );

  // This world's trades, one by one, against their ledger transfers.
  const trades = await p.db.query<TradeRow>('select * from trades where app_id = $1 order by trade_no', [shop.appId]);
  const refs = trades.map((t) => uuidFromU128(derivedId('trade', t.trade_no)));
  const moved = await p.db.query<{ ref: string; code: number; n: bigint; total: bigint }>(
    `select user_data_128::text as ref, code, count(*)::int8 as n, sum(amount)::int8 as total
     from ledger_transfers where user_data_128 = any($1::uuid[]) group by 1, 2`,
    [refs],
  );
  const transitions = await p.db.query<{ trade_no: string; released: bigint; finished: bigint }>(
    `select trade_no, count(*) filter (where to_status = 'RELEASING')::int8 as released,
       count(*) filter (where from_status = 'RELEASING' and to_status = 'TRADE_FINISHED')::int8 as finished
     from trade_transitions where trade_no = any($1::text[]) group by trade_no`,
    [trades.map((t) => t.trade_no)],
  );
  const after = await p.db.query<{
    trade_no: string;
    active_case: boolean;
    open_dispute: boolean;
    open_cases: bigint;
    open_disputes: bigint;
    fund_awards: bigint;
    over_award: boolean;
  }>(
    `select t.trade_no,
       exists (select 1 from refund_cases c where c.trade_no = t.trade_no and c.status = any($2::text[])) as active_case,
       exists (select 1 from disputes d where d.trade_no = t.trade_no and d.status = any($3::text[])) as open_dispute,
       (select count(*) from refund_cases c where c.trade_no = t.trade_no
        and c.status not in ('REFUND_SUCCESS', 'REFUND_CLOSED'))::int8 as open_cases,
       (select count(*) from disputes d where d.trade_no = t.trade_no and d.status = any($3::text[]))::int8
         as open_disputes,
       (select coalesce(sum(award_fen), 0) from disputes d where d.trade_no = t.trade_no and paid_from = 'fund'
        and status = 'RULED_FOR_BUYER')::int8 as fund_awards,
       exists (select 1 from disputes d where d.trade_no = t.trade_no and d.award_fen > d.claim_fen) as over_award
     from trades t where t.app_id = $1`,
    [shop.appId, activeCase, openDispute],
  );
  for (const [i, t] of trades.entries()) {
    const label = `trade ${t.trade_no} (${t.status}, total ${t.total_fen})`;
    const by = (code: number) => moved.find((m) => m.ref === refs[i] && m.code === code);
    const total = (code: number) => by(code)?.total ?? 0n;
    const count = (code: number) => by(code)?.n ?? 0n;
    const tr = transitions.find((x) => x.trade_no === t.trade_no);
    const a = after.find((x) => x.trade_no === t.trade_no);
    expect(t.refunded_fen, `${label}: refunded beyond its amount`).toBeLessThanOrEqual(t.total_fen);
    expect(t.refunded_fen + t.fee_fen + t.royalty_fen, `${label}: refunds + fee + splits`).toBeLessThanOrEqual(
      t.total_fen,
    );
    expect(tr?.released ?? 0n, `${label}: claimed for release more than once`).toBeLessThanOrEqual(1n);
    expect(tr?.finished ?? 0n, `${label}: RELEASING>TRADE_FINISHED more than once`).toBeLessThanOrEqual(1n);
    expect(count(EscrowTransferCode.payment), `${label}: paid more than once`).toBeLessThanOrEqual(1n);
    expect(count(EscrowTransferCode.release), `${label}: released more than once`).toBeLessThanOrEqual(1n);
    expect(count(EscrowTransferCode.fee), `${label}: fee taken more than once`).toBeLessThanOrEqual(1n);
    expect(total(EscrowTransferCode.payment), `${label}: payment`).toBe(t.paid_at ? t.total_fen : 0n);
    expect(total(EscrowTransferCode.refund), `${label}: refund transfers = refunded`).toBe(t.refunded_fen);
    expect(total(EscrowTransferCode.fee), `${label}: fee transfer = fee`).toBe(t.fee_fen);
    const released = t.status === 'TRADE_FINISHED' ? t.total_fen - t.refunded_fen - t.fee_fen : 0n;
    expect(total(EscrowTransferCode.release), `${label}: release transfer`).toBe(released);
    if (t.status !== 'TRADE_FINISHED') expect(t.fee_fen, `${label}: a fee before release`).toBe(0n);
    expect(total(EscrowTransferCode.royalty), `${label}: split transfers = splits`).toBe(t.royalty_fen);
    expect(total(EscrowTransferCode.compensation), `${label}: compensation = fund awards`).toBe(a?.fund_awards);
    expect(a?.open_cases, `${label}: more than one open case`).toBeLessThanOrEqual(1n);
    expect(a?.open_disputes, `${label}: more than one open dispute`).toBeLessThanOrEqual(1n);
    expect(a?.over_award, `${label}: an award above its claim`).toBe(false);
    if (inEscrow.includes(t.status))
      expect(t.case_open, `${label}: the case flag while a case or dispute waits`).toBe(
        Boolean(a?.active_case || a?.open_dispute),
      );
  }

  // This world's parties.
  const [s] = await p.db.query<{ payouts: bigint; taken: bigint; wallet_splits: bigint }>(
    `select (select coalesce(sum(payout_fen), 0) from settlements where seller_id = $1 and status = 'SETTLED')::int8
         as payouts,
       (select coalesce(sum(d.award_fen - coalesce(r.amount_fen, 0)), 0) from disputes d
          left join recovery_claims r using (dispute_no)
        where d.seller_id = $1 and d.paid_from = 'fund' and d.status = 'RULED_FOR_BUYER')::int8 as taken,
       (select coalesce(sum(amount_fen), 0) from royalties where app_id = $2 and source = 'wallet'
        and status = 'SUCCESS')::int8 as wallet_splits`,
    [shop.sellerId, shop.appId],
  );
  if (!s) throw new Error('invariant: an aggregate has a row');
  const unsettled = sum(
    trades
      .filter((t) => t.status === 'TRADE_FINISHED' && t.settlement_no === null)
      .map((t) => t.total_fen - t.refunded_fen - t.fee_fen - t.royalty_fen),
  );
  expect(at(unsettledAccountOf(shop.sellerId)), "the seller's unsettled proceeds").toBe(unsettled);
  expect(at(w.sellerWallet), "the seller's wallet = payouts − taken back at rulings − splits from it").toBe(
    s.payouts - s.taken - s.wallet_splits,
  );
  const splits = await p.db.query<{ parts: { trans_in: string; amount_fen: string }[] }>(
    `select parts from royalties where app_id = $1 and status = 'SUCCESS'`,
    [shop.appId],
  );
  for (const r of w.receivers) {
    const got = sum(
      splits.flatMap((x) => x.parts.filter((q) => q.trans_in === r.userId).map((q) => BigInt(q.amount_fen))),
    );
    expect(at(r.wallet), `receiver ${r.userId}`).toBe(got);
  }
  for (const b of w.buyers) {
    const mine = trades.filter((t) => t.buyer_id === b.userId);
    const paid = sum(mine.filter((t) => t.paid_at).map((t) => t.total_fen));
    const refunded = sum(mine.map((t) => t.refunded_fen));
    const awards = sum(mine.map((t) => after.find((x) => x.trade_no === t.trade_no)?.fund_awards ?? 0n));
    expect(at(b.wallet), `buyer ${b.userId} = initial − paid + refunds + fund awards`).toBe(
      b.initial - paid + refunded + awards,
    );
  }
}

/**
 * Ends every case and dispute, ships what is paid, lets time pass and settles: afterwards
 * nothing of this world is in escrow or in flight, and its accounts hold what they held at the
 * start plus the fund capital moved in.
 */
async function wrapUp(w: World): Promise<void> {
  const { p, shop } = w;
  for (let round = 0; round < 3; round++) {
    for (const trade of w.trades) {
      const buyer = w.buyers[trade.buyer];
      if (!buyer) continue;
      const tradeNo = trade.tradeNo;
      const disputes = await p.db.query(
        `select 1 from disputes where trade_no = $1 and status in ('WAIT_SELLER_EVIDENCE', 'WAIT_RULING')`,
        [tradeNo],
      );
      if (disputes.length > 0) await step(w, { k: 'rule', t: w.trades.indexOf(trade), decision: 'SELLER', pct: null });
      const cases = await p.db.query<{ case_no: string; status: string }>(
        `select case_no, status from refund_cases where trade_no = $1 and status not in ('REFUND_SUCCESS', 'REFUND_CLOSED', 'REFUNDING')`,
        [tradeNo],
      );
      for (const c of cases) {
        const t = w.trades.indexOf(trade);
        await step(w, { k: c.status === 'WAIT_SELLER_CONFIRM_GOODS' ? 'receiveReturn' : 'withdraw', t });
      }
      const row = await tradeRow(p, tradeNo);
      if (row.status === 'WAIT_SELLER_SEND_GOODS') await step(w, { k: 'ship', t: w.trades.indexOf(trade) });
    }
  }
  await step(w, { k: 'time', days: 11 + 3 + 1 });
  await step(w, { k: 'settle' });
  await checkBooks(w);
  const stuck = await p.db.query<{ what: string; no: string; status: string }>(
    `select 'trade' as what, trade_no as no, status from trades
       where app_id = $1 and status in ('PAYING', 'RELEASING', 'WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_CONFIRM_GOODS')
     union all select 'case', case_no, status from refund_cases
       where app_id = $1 and status not in ('REFUND_SUCCESS', 'REFUND_CLOSED', 'SELLER_REFUSE_BUYER')
     union all select 'dispute', dispute_no, status from disputes where app_id = $1 and status in ('WAIT_SELLER_EVIDENCE', 'WAIT_RULING', 'RULING')
     union all select 'split', out_request_no, status from royalties where app_id = $1 and status = 'PROCESSING'
     union all select 'settlement', settlement_no, status from settlements where seller_id = $2 and status = 'PROCESSING'`,
    [shop.appId, shop.sellerId],
  );
  expect(stuck, 'left in flight or in escrow after everything ended').toEqual([]);
  expect(await balanceOf(p, unsettledAccountOf(shop.sellerId)), 'unsettled after the settlement').toBe(0n);
  const end = await balances(w);
  const delta = (id: bigint) => (end.get(id) ?? 0n) - (w.start.get(id) ?? 0n);
  const capitalIn = -delta(w.funding);
  const held = sum(w.accounts.filter((id) => id !== w.funding).map(delta));
  expect(held, 'money conserved: the run accounts moved only by the fund capital').toBe(capitalIn);
}

async function run(w: World, commands: readonly Cmd[]): Promise<void> {
  try {
    for (const c of commands) {
      await step(w, c);
      await checkBooks(w);
    }
    await wrapUp(w);
  } catch (error) {
    const log = w.log.map((l, i) => `  ${i + 1}. ${l}`).join('\n');
    if (error instanceof Error) error.message = `${error.message}\ncommands:\n${log}`;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------

describe('escrow trades under random interleavings', () => {
  it('conserve money and keep every trade within its budget', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const w = await newWorld(platform(), scenario);
        for (const t of scenario.trades) await createTrade(w, t.buyer, t.fen, t.stage);
        await checkBooks(w);
        await run(w, scenario.commands);
      }),
      {
        numRuns: Number(process.env.ESCROW_PROPERTY_RUNS ?? 20),
        // Shrinking replays whole runs on the database: off unless asked for.
        endOnFailure: !process.env.ESCROW_PROPERTY_SHRINK,
        // To replay a failure: ESCROW_PROPERTY_SEED=<seed> (and ESCROW_PROPERTY_PATH=<path>).
        ...(process.env.ESCROW_PROPERTY_SEED ? { seed: Number(process.env.ESCROW_PROPERTY_SEED) } : {}),
        ...(process.env.ESCROW_PROPERTY_PATH ? { path: process.env.ESCROW_PROPERTY_PATH } : {}),
      },
    );
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------
// Races on one trade

/** Runs these at once; a refusal is a TradeError (its code is kept), anything else fails. */
async function race<T>(...work: (() => Promise<T>)[]): Promise<{ ok: T[]; refused: string[] }> {
  const results = await Promise.allSettled(work.map((f) => f()));
  const ok: T[] = [];
  const refused: string[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') ok.push(r.value);
    else if (r.reason instanceof TradeError) refused.push(r.reason.code);
    else throw r.reason;
  }
  return { ok, refused };
}

async function raceWorld(options: { feeBps?: number; confirmDays?: number } = {}): Promise<World> {
  return newWorld(platform(), { feeBps: options.feeBps ?? 100, confirmDays: options.confirmDays ?? 10 });
}

async function shippedTrade(w: World, fen: number, buyer = 0): Promise<string> {
  return createTrade(w, buyer, fen, 'shipped');
}

const buyerOf = (w: World, tradeNo: string): Actor => {
  const b = w.buyers[w.trades.find((t) => t.tradeNo === tradeNo)?.buyer ?? -1];
  if (!b) throw new Error(`no buyer for ${tradeNo}`);
  return b.actor;
};

/** A fresh world with one shipped trade of `fen` (buyer 0's): the setup of most races below. */
async function worldWithShippedTrade(
  fen: number,
  options: { feeBps?: number; confirmDays?: number } = {},
): Promise<{ w: World; p: Platform; tradeNo: string; actor: Actor }> {
  const w = await raceWorld(options);
  const tradeNo = await shippedTrade(w, fen);
  return { w, p: w.p, tradeNo, actor: buyerOf(w, tradeNo) };
}

describe('escrow trades under concurrency', () => {
  it('a confirmation, a merchant refund, a refund request and the auto-confirm race on one trade', async () => {
    const w = await raceWorld({ confirmDays: 2 });
    const p = w.p;
    const trades: string[] = [];
    for (let i = 0; i < 6; i++) trades.push(await shippedTrade(w, 10_000 + i * 777, i % BUYERS));
    clock.advanceMs(3 * day);
    for (const [i, tradeNo] of trades.entries()) {
      const actor = buyerOf(w, tradeNo);
      // Vary who starts first.
      const work = [
        () => p.escrow.confirmReceipt(actor, { tradeNo }),
        () => p.trades.refund(w.shop.appId, { tradeNo }, { refundAmount: '30.00', outRequestNo: 'race' }),
        () => p.afterSale.requestRefund(actor, { tradeNo }, { amount: '20.00', reason: 'race' }),
        () => p.escrow.sweep(),
      ];
      await race<unknown>(...work.slice(i % 4), ...work.slice(0, i % 4));
      const t = await tradeRow(p, tradeNo);
      expect(['TRADE_FINISHED', 'WAIT_BUYER_CONFIRM_GOODS']).toContain(t.status);
      if (t.status === 'TRADE_FINISHED')
        expect(t.fee_fen).toBe(((t.total_fen - t.refunded_fen) * BigInt(t.fee_bps) + 5000n) / 10000n);
      await checkBooks(w);
    }
    await wrapUp(w);
  });

  it('the same confirmation five times at once releases once', async () => {
    const { w, p, tradeNo, actor } = await worldWithShippedTrade(12_345, { feeBps: 333 });
    const { ok, refused } = await race(
      ...Array.from({ length: 5 }, () => () => p.escrow.confirmReceipt(actor, { tradeNo })),
    );
    expect(refused).toEqual([]);
    expect(ok.map((v) => v.status)).toEqual(Array(5).fill('TRADE_FINISHED'));
    expect((await tradeRow(p, tradeNo)).status).toBe('TRADE_FINISHED');
    // 12_345 less 3.33% (411.0885 → 411 fen).
    expect(await balanceOf(p, unsettledAccountOf(w.shop.sellerId))).toBe(12_345n - 411n);
    await checkBooks(w);
    await wrapUp(w);
  });

  it('concurrent rulings on one dispute: one ruling stands, money moves once', async () => {
    const w = await raceWorld();
    const p = w.p;
    // Before release: the escrow pays.
    const tradeNo = await shippedTrade(w, 8_000);
    const actor = buyerOf(w, tradeNo);
    const c = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '80.00', reason: 'broken' });
    await p.afterSale.refuse(w.shop.seller, c.caseNo, 'was fine');
    const d = await p.afterSale.openDispute(actor, { tradeNo }, { reason: 'broken' });
    const rule = (decision: 'BUYER' | 'SELLER', awardAmount?: string) => () =>
      p.afterSale.rule(w.shop.operator, d.disputeNo, { decision, awardAmount });
    const first = await race(rule('BUYER'), rule('SELLER'), rule('BUYER', '50.00'), rule('SELLER'), rule('BUYER'));
    expect(first.ok).toHaveLength(1);
    expect(first.refused).toEqual(Array(4).fill('DISPUTE_CLOSED'));
    await checkBooks(w);

    // After release: the fund pays, and takes back from the seller's wallet.
    const sold = await shippedTrade(w, 20_000, 1);
    const buyer = buyerOf(w, sold);
    await p.escrow.confirmReceipt(buyer, { tradeNo: sold });
    await p.settlements.run();
    const late = await p.afterSale.openDispute(buyer, { tradeNo: sold }, { claimAmount: '150.00', reason: 'fake' });
    const second = await race(
      ...Array.from(
        { length: 4 },
        () => () => p.afterSale.rule(w.shop.operator, late.disputeNo, { decision: 'BUYER' }),
      ),
    );
    expect(second.ok).toHaveLength(1);
    expect(second.ok[0]?.paidFrom).toBe('fund');
    expect(second.refused).toEqual(Array(3).fill('DISPUTE_CLOSED'));
    await checkBooks(w);
    await wrapUp(w);
  });

  it('concurrent settlement runs pay every trade once', async () => {
    const w = await raceWorld({ feeBps: 60 });
    const p = w.p;
    for (let i = 0; i < 5; i++) {
      const tradeNo = await shippedTrade(w, 3_000 + i, i % BUYERS);
      await p.escrow.confirmReceipt(buyerOf(w, tradeNo), { tradeNo });
    }
    const { ok } = await race(...Array.from({ length: 4 }, () => () => p.settlements.run()));
    const mine = ok.flat().filter((s) => s.sellerId === w.shop.sellerId);
    const items = await p.db.query<{ trade_no: string; n: bigint }>(
      `select trade_no, count(*)::int8 as n from settlement_items
       where trade_no = any($1::text[]) group by trade_no`,
      [w.trades.map((t) => t.tradeNo)],
    );
    expect(items).toHaveLength(5);
    for (const i of items) expect(i.n, `trade ${i.trade_no} in one settlement`).toBe(1n);
    const paid = sum(mine.map((s) => BigInt(Math.round(Number(s.payoutAmount) * 100))));
    expect(await balanceOf(p, w.sellerWallet)).toBe(paid);
    await checkBooks(w);
    await wrapUp(w);
  });

  it('concurrent splits: one out_request_no splits once; different ones stay within the trade', async () => {
    const { w, p, tradeNo, actor } = await worldWithShippedTrade(10_000);
    await p.escrow.confirmReceipt(actor, { tradeNo });
    const [r1, r2] = w.receivers;
    if (!r1 || !r2) throw new Error('receivers');
    const split =
      (outRequestNo: string, parameters: { transIn: string; amountPercentage?: string; amount?: string }[]) => () =>
        p.royalties.settle(w.shop.appId, { tradeNo }, { outRequestNo, parameters });
    const same = await race(
      ...Array.from({ length: 5 }, () =>
        split('same', [
          { transIn: r1.userId, amountPercentage: '20' },
          { transIn: r2.userId, amountPercentage: '10' },
        ]),
      ),
    );
    expect(same.refused).toEqual([]);
    expect(same.ok.map((v) => v.status)).toEqual(Array(5).fill('SUCCESS'));
    expect(await balanceOf(p, r1.wallet)).toBe(1_980n);
    expect(await balanceOf(p, r2.wallet)).toBe(990n);
    // 99.00 − 29.70 = 69.30 left: of four 25.00 splits at most two fit.
    const many = await race(
      ...['a', 'b', 'c', 'd'].map((n) => split(`other-${n}`, [{ transIn: r2.userId, amount: '25.00' }])),
    );
    expect(many.ok).toHaveLength(2);
    expect(many.refused.every((code) => code === 'ALLOC_AMOUNT_VALIDATE_ERROR')).toBe(true);
    await checkBooks(w);
    await wrapUp(w);
  });

  it("a case's deadline, the seller's answer and the buyer's withdrawal race: one of them moves it", async () => {
    const { w, p, tradeNo, actor } = await worldWithShippedTrade(10_000);
    const before = await balanceOf(p, w.buyers[0]?.wallet ?? 0n);
    const c = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '40.00', reason: 'late' });
    clock.advanceMs(6 * day);
    const { ok, refused } = await race<unknown>(
      () => p.afterSale.sweep(),
      () => p.afterSale.agree(w.shop.seller, c.caseNo),
      () => p.afterSale.withdraw(actor, c.caseNo),
      () => p.afterSale.sweep(),
    );
    expect(ok.length + refused.length).toBe(4);
    expect(refused.every((code) => code === 'CASE_STATUS_ERROR')).toBe(true);
    const after = await p.afterSale.getCase(actor, c.caseNo);
    expect(['REFUND_SUCCESS', 'REFUND_CLOSED']).toContain(after.status);
    const paid = after.status === 'REFUND_SUCCESS' ? 4_000n : 0n;
    expect(await balanceOf(p, w.buyers[0]?.wallet ?? 0n)).toBe(before + paid);
    expect((await tradeRow(p, tradeNo)).refunded_fen).toBe(paid);
    await checkBooks(w);
    await wrapUp(w);
  });

  it('concurrent refunds and refund requests never exceed the trade; one case opens', async () => {
    const { w, p, tradeNo, actor } = await worldWithShippedTrade(10_000);
    const refunds = await race<unknown>(
      ...['a', 'b', 'c', 'd', 'e'].map(
        (n) => () => p.trades.refund(w.shop.appId, { tradeNo }, { refundAmount: '30.00', outRequestNo: n }),
      ),
      ...Array.from(
        { length: 4 },
        () => () => p.afterSale.requestRefund(actor, { tradeNo }, { amount: '5.00', reason: 'late' }),
      ),
    );
    const t = await tradeRow(p, tradeNo);
    expect(t.refunded_fen).toBeLessThanOrEqual(t.total_fen);
    const [cases] = await p.db.query<{ n: bigint }>(
      'select count(*)::int8 as n from refund_cases where trade_no = $1',
      [tradeNo],
    );
    expect(cases?.n).toBe(1n);
    expect(refunds.refused.filter((code) => code === 'CASE_ALREADY_OPEN')).toHaveLength(3);
    await checkBooks(w);
    await wrapUp(w);
  });
});

// ---------------------------------------------------------------------------------------------
// Rules the properties found missing (fixed since): one unfinished case per trade, answered as
// CASE_ALREADY_OPEN; a dispute freezes its case, so the ruling alone decides how it ends.

describe('after-sale rules the random runs found', () => {
  it('a second refund request while a refused case is not over answers CASE_ALREADY_OPEN', async () => {
    const { w, p, tradeNo, actor } = await worldWithShippedTrade(1_000);
    const c = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '5.00', reason: 'x' });
    await p.afterSale.refuse(w.shop.seller, c.caseNo, 'no');
    const error = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '5.00', reason: 'again' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TradeError);
    expect((error as TradeError).code).toBe('CASE_ALREADY_OPEN');
  });

  it('while a dispute is open its case is frozen; a ruling for the buyer (for less) pays and ends both', async () => {
    const { w, p, tradeNo, actor } = await worldWithShippedTrade(2_000);
    const c = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '8.00', reason: 'x', needReturn: true });
    const d = await p.afterSale.openDispute(actor, { tradeNo }, { reason: 'y' });
    for (const move of [
      () => p.afterSale.agree(w.shop.seller, c.caseNo),
      () => p.afterSale.refuse(w.shop.seller, c.caseNo, 'no'),
      () => p.afterSale.withdraw(actor, c.caseNo),
    ]) {
      const error = await move().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as TradeError).code).toBe('CASE_STATUS_ERROR');
    }
    const ruled = await p.afterSale.rule(w.shop.operator, d.disputeNo, { decision: 'BUYER', awardAmount: '3.00' });
    expect(ruled.status).toBe('RULED_FOR_BUYER');
    expect((await p.afterSale.getCase(actor, c.caseNo)).status).toBe('REFUND_SUCCESS');
    expect((await tradeRow(p, tradeNo)).refunded_fen).toBe(300n);
    clock.advanceMs(20 * day);
    await p.afterSale.sweep();
    await p.escrow.sweep();
    expect((await tradeRow(p, tradeNo)).status).toBe('TRADE_FINISHED');
  });

  it('a ruling for the seller closes the frozen case; the trade releases after the grace period', async () => {
    const { w, p, tradeNo, actor } = await worldWithShippedTrade(2_000);
    const c = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '8.00', reason: 'x', needReturn: true });
    const d = await p.afterSale.openDispute(actor, { tradeNo }, { reason: 'y' });
    await p.afterSale.rule(w.shop.operator, d.disputeNo, { decision: 'SELLER' });
    expect((await p.afterSale.getCase(actor, c.caseNo)).status).toBe('REFUND_CLOSED');
    expect((await tradeRow(p, tradeNo)).case_open).toBe(false);
    clock.advanceMs(20 * day);
    await p.escrow.sweep();
    expect((await tradeRow(p, tradeNo)).status).toBe('TRADE_FINISHED');
  });
});

describe('replays after a crash move money once and record it', () => {
  it('a release left RELEASING (crash after the ledger) is finished by the sweep', async () => {
    const { p, tradeNo, actor } = await worldWithShippedTrade(10_000, { feeBps: 100 });
    await p.escrow.confirmReceipt(actor, { tradeNo });
    // As if the process died between the ledger and the last statement of the release.
    await p.db.query(`update trades set status = 'RELEASING' where trade_no = $1`, [tradeNo]);
    clock.advanceMs(120_000);
    // The replayed chain answers [exists, linked_event_failed]: committed (fixed in 7f9824f).
    await p.escrow.sweep();
    expect((await tradeRow(p, tradeNo)).status).toBe('TRADE_FINISHED');
  });

  it('a split left PROCESSING (crash after the ledger) is recorded SUCCESS by the sweep', async () => {
    const { w, p, tradeNo, actor } = await worldWithShippedTrade(10_000, { feeBps: 100 });
    await p.escrow.confirmReceipt(actor, { tradeNo });
    const [r1, r2] = w.receivers;
    if (!r1 || !r2) throw new Error('receivers');
    await p.royalties.settle(
      w.shop.appId,
      { tradeNo },
      {
        outRequestNo: 's1',
        parameters: [
          { transIn: r1.userId, amountPercentage: '20' },
          { transIn: r2.userId, amountPercentage: '10' },
        ],
      },
    );
    // As if the process died between the ledger and the record of the split.
    await p.db.query(`update royalties set status = 'PROCESSING' where trade_no = $1`, [tradeNo]);
    await p.db.query('update trades set royalty_fen = 0, royalty_reserved_fen = 2970 where trade_no = $1', [tradeNo]);
    clock.advanceMs(120_000);
    await p.royalties.sweep();
    // Before 7f9824f the replay was recorded FAILED with royalty_fen 0 while the receivers held 29.70.
    const [row] = await p.db.query<{ status: string }>('select status from royalties where trade_no = $1', [tradeNo]);
    expect(row?.status).toBe('SUCCESS');
    expect((await tradeRow(p, tradeNo)).royalty_fen).toBe(2_970n);
  });
});
