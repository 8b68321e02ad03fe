/**
 * Escrow trades on the whole platform, with the clock moved past every timeout: pay into escrow,
 * ship, confirm or auto-confirm (with the reminder first), release less the fee; refunds before
 * and after shipment with the return-goods flow; disputes with the compensation fund and the
 * recovery claim; splits; the settlement job; wrong actors and bad input.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { usePlatform } from '../support/engine.ts';
import { advanceDays, type Marketplace, marketplace, rejects } from './escrow-support.ts';

const clock = new ManualClock();
const platform = usePlatform({ clock });
let shop: Marketplace;

beforeAll(async () => {
  shop = await marketplace(platform(), { feeBps: 100, confirmDays: 10 });
});

async function notifications(tradeNo: string): Promise<Record<string, string>[]> {
  const rows = await platform().db.query<{ payload: Record<string, string> }>(
    'select payload from trade_notifications where trade_no = $1 order by id',
    [tradeNo],
  );
  return rows.map((r) => r.payload);
}

async function transitions(tradeNo: string): Promise<string[]> {
  const rows = await platform().db.query<{ from_status: string; to_status: string; actor: string }>(
    'select from_status, to_status, actor from trade_transitions where trade_no = $1 order by at, to_status',
    [tradeNo],
  );
  return rows.map((r) => `${r.from_status}>${r.to_status}`);
}

describe('escrow lifecycle', () => {
  it('pays into escrow, ships, confirms, releases less the fee; settles into the wallet', async () => {
    const p = platform();
    const { userId, actor } = await shop.buyer('500.00');
    const escrowBefore = await shop.escrowBalance();
    const tradeNo = await shop.paidTrade(userId, '200.00');
    expect(await shop.balance(userId)).toBe('300.00');
    expect(Number(await shop.escrowBalance()) - Number(escrowBefore)).toBe(200);
    const shipped = await p.escrow.ship(shop.seller, { tradeNo }, { company: 'SF Express', trackingNo: 'SF1001' });
    expect(shipped.status).toBe('WAIT_BUYER_CONFIRM_GOODS');
    expect(shipped.escrow?.logisticsNo).toBe('SF1001');
    const sellerWalletBefore = await shop.balance(shop.sellerId);
    const done = await p.escrow.confirmReceipt(actor, { tradeNo });
    expect(done.status).toBe('TRADE_FINISHED');
    expect(done.escrow?.feeAmount).toBe('2.00');
    expect(await shop.unsettled()).toBe('198.00');
    expect(await shop.balance(shop.sellerId)).toBe(sellerWalletBefore);
    // Confirming again is harmless.
    expect((await p.escrow.confirmReceipt(actor, { tradeNo })).status).toBe('TRADE_FINISHED');
    // The manual clock stands still, so the moves are compared as a set.
    expect((await transitions(tradeNo)).sort()).toEqual(
      [
        'WAIT_BUYER_PAY>PAYING',
        'PAYING>WAIT_SELLER_SEND_GOODS',
        'WAIT_SELLER_SEND_GOODS>WAIT_BUYER_CONFIRM_GOODS',
        'WAIT_BUYER_CONFIRM_GOODS>RELEASING',
        'RELEASING>TRADE_FINISHED',
      ].sort(),
    );
    const statuses = (await notifications(tradeNo)).map((n) => n.trade_status);
    expect(statuses).toEqual(['WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_CONFIRM_GOODS', 'TRADE_FINISHED']);

    const [settlement] = (await p.settlements.run()).filter((s) => s.sellerId === shop.sellerId);
    expect(settlement?.payoutAmount).toBe('198.00');
    expect(await shop.unsettled()).toBe('0.00');
    expect(Number(await shop.balance(shop.sellerId)) - Number(sellerWalletBefore)).toBe(198);
    const statement = await p.settlements.statement(shop.sellerId, settlement?.settlementNo ?? '');
    expect(statement.trades.map((t) => [t.tradeNo, t.amount, t.feeAmount])).toEqual([[tradeNo, '198.00', '2.00']]);
    // Nothing is settled twice.
    expect((await p.settlements.run()).filter((s) => s.sellerId === shop.sellerId)).toEqual([]);
  });

  it('reminds the buyer before the confirm period ends, then confirms by itself', async () => {
    const p = platform();
    const { userId } = await shop.buyer();
    const tradeNo = await shop.shippedTrade(userId, '50.00');
    advanceDays(clock, 6);
    await p.escrow.sweep();
    expect((await notifications(tradeNo)).some((n) => n.notify_type === 'trade_confirm_reminder')).toBe(false);
    advanceDays(clock, 1.5);
    await p.escrow.sweep();
    expect((await notifications(tradeNo)).filter((n) => n.notify_type === 'trade_confirm_reminder')).toHaveLength(1);
    expect((await p.trades.byTradeNo(tradeNo)).status).toBe('WAIT_BUYER_CONFIRM_GOODS');
    advanceDays(clock, 3);
    const round = await p.escrow.sweep();
    expect(round.released).toBeGreaterThanOrEqual(1);
    expect((await p.trades.byTradeNo(tradeNo)).status).toBe('TRADE_FINISHED');
    const [row] = await p.db.query<{ actor: string }>(
      `select actor from trade_transitions where trade_no = $1 and to_status = 'RELEASING'`,
      [tradeNo],
    );
    expect(row?.actor).toBe('auto-confirm');
  });

  it('refunds at once before shipment, partly and then in full (closing the trade)', async () => {
    const p = platform();
    const { userId, actor } = await shop.buyer('100.00');
    const tradeNo = await shop.paidTrade(userId, '80.00');
    const part = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '30.00', reason: 'changed my mind' });
    expect(part.status).toBe('REFUND_SUCCESS');
    expect(await shop.balance(userId)).toBe('50.00');
    await rejects(
      p.afterSale.requestRefund(actor, { tradeNo }, { amount: '50.01', reason: 'more' }),
      'REFUND_AMT_NOT_EQUAL_TOTAL',
    );
    const rest = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '50.00', reason: 'rest' });
    expect(rest.status).toBe('REFUND_SUCCESS');
    expect(await shop.balance(userId)).toBe('100.00');
    expect((await p.trades.byTradeNo(tradeNo)).status).toBe('TRADE_CLOSED');
  });

  it('after shipment: the seller agrees, the goods come back, the refund is paid; the rest releases', async () => {
    const p = platform();
    const { userId, actor } = await shop.buyer('100.00');
    const tradeNo = await shop.shippedTrade(userId, '100.00');
    const c = await p.afterSale.requestRefund(
      actor,
      { tradeNo },
      { amount: '40.00', reason: 'one item broken', needReturn: true },
    );
    expect(c.status).toBe('WAIT_SELLER_AGREE');
    await rejects(
      p.afterSale.requestRefund(actor, { tradeNo }, { amount: '1.00', reason: 'again' }),
      'CASE_ALREADY_OPEN',
    );
    // The case holds the auto-confirm and the buyer's own confirmation.
    await rejects(p.escrow.confirmReceipt(actor, { tradeNo }), 'CASE_ALREADY_OPEN');
    advanceDays(clock, 11);
    await p.escrow.sweep();
    expect((await p.trades.byTradeNo(tradeNo)).status).toBe('WAIT_BUYER_CONFIRM_GOODS');
    expect((await p.afterSale.agree(shop.seller, c.caseNo)).status).toBe('WAIT_BUYER_RETURN_GOODS');
    await rejects(p.afterSale.receiveReturn(shop.seller, c.caseNo), 'CASE_STATUS_ERROR');
    const back = await p.afterSale.returnGoods(actor, c.caseNo, { company: 'YTO', trackingNo: 'YT77' });
    expect(back.status).toBe('WAIT_SELLER_CONFIRM_GOODS');
    const paid = await p.afterSale.receiveReturn(shop.seller, c.caseNo);
    expect(paid.status).toBe('REFUND_SUCCESS');
    expect(await shop.balance(userId)).toBe('40.00');
    const t = await p.trades.byTradeNo(tradeNo);
    expect(t.refundedAmount).toBe('40.00');
    expect(t.escrow?.caseOpen).toBe(false);
    // The buyer gets the grace period, then the rest releases: 60.00 less 1% fee.
    await p.escrow.sweep();
    expect((await p.trades.byTradeNo(tradeNo)).status).toBe('WAIT_BUYER_CONFIRM_GOODS');
    advanceDays(clock, 3.1);
    await p.escrow.sweep();
    const released = await p.trades.byTradeNo(tradeNo);
    expect(released.status).toBe('TRADE_FINISHED');
    expect(released.escrow?.feeAmount).toBe('0.60');
  });

  it('a refused refund goes to a dispute; an operator rules for the buyer and the escrow pays', async () => {
    const p = platform();
    const { userId, actor } = await shop.buyer('100.00');
    const tradeNo = await shop.shippedTrade(userId, '70.00');
    const c = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '70.00', reason: 'never arrived' });
    const refused = await p.afterSale.refuse(shop.seller, c.caseNo, 'it was delivered');
    expect(refused.status).toBe('SELLER_REFUSE_BUYER');
    const d = await p.afterSale.openDispute(actor, { tradeNo }, { reason: 'it was not' });
    expect(d.caseNo).toBe(c.caseNo);
    expect(d.claimAmount).toBe('70.00');
    expect((await p.afterSale.answer(shop.seller, d.disputeNo, 'tracking shows signed')).status).toBe('WAIT_RULING');
    // Wrong actors: the seller and the buyer cannot rule.
    await rejects(p.afterSale.rule(shop.seller, d.disputeNo, { decision: 'SELLER' }), 'ACCESS_FORBIDDEN');
    await rejects(p.afterSale.rule(actor, d.disputeNo, { decision: 'BUYER' }), 'ACCESS_FORBIDDEN');
    const ruled = await p.afterSale.rule(shop.operator, d.disputeNo, { decision: 'BUYER', note: 'no signature' });
    expect(ruled.status).toBe('RULED_FOR_BUYER');
    expect(ruled.paidFrom).toBe('escrow');
    expect(await shop.balance(userId)).toBe('100.00');
    expect((await p.trades.byTradeNo(tradeNo)).status).toBe('TRADE_CLOSED');
    expect((await p.afterSale.getCase(actor, c.caseNo)).status).toBe('REFUND_SUCCESS');
    // A closed dispute takes no second ruling.
    await rejects(p.afterSale.rule(shop.operator, d.disputeNo, { decision: 'SELLER' }), 'DISPUTE_CLOSED');
  });

  it('a ruling for the seller closes the case and the auto-confirm resumes', async () => {
    const p = platform();
    const { userId, actor } = await shop.buyer('100.00');
    const tradeNo = await shop.shippedTrade(userId, '10.00');
    const c = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '10.00', reason: 'bad' });
    await p.afterSale.refuse(shop.seller, c.caseNo, 'fine');
    const d = await p.afterSale.openDispute(actor, { tradeNo }, { reason: 'bad' });
    const ruled = await p.afterSale.rule(shop.operator, d.disputeNo, { decision: 'SELLER' });
    expect(ruled.status).toBe('RULED_FOR_SELLER');
    expect((await p.afterSale.getCase(actor, c.caseNo)).status).toBe('REFUND_CLOSED');
    advanceDays(clock, 11);
    await p.escrow.sweep();
    expect((await p.trades.byTradeNo(tradeNo)).status).toBe('TRADE_FINISHED');
  });

  it("after release the fund pays the buyer at once and recovers from the seller's next settlement", async () => {
    const p = platform();
    const poor = await marketplace(p, { feeBps: 0 });
    const { userId, actor } = await poor.buyer('300.00');
    const tradeNo = await poor.shippedTrade(userId, '300.00');
    await p.escrow.confirmReceipt(actor, { tradeNo });
    await p.settlements.run();
    expect(await poor.balance(poor.sellerId)).toBe('300.00');
    // The seller spends it all (a payout to someone else).
    const other = await poor.buyer('0.00');
    await p.payouts.transfer({
      appId: poor.appId,
      outBizNo: 'spend-all',
      transAmount: '250.00',
      productCode: 'TRANS_ACCOUNT_NO_PWD',
      bizScene: 'DIRECT_TRANSFER',
      payeeIdentity: other.userId,
      payeeIdentityType: 'ALIPAY_USER_ID',
    });
    await p.afterSale.addFundCapital('1.00', 'escrow-test');
    const fundBefore = await poor.fundBalance();
    const d = await p.afterSale.openDispute(actor, { tradeNo }, { claimAmount: '120.00', reason: 'counterfeit' });
    const ruled = await p.afterSale.rule(poor.operator, d.disputeNo, { decision: 'BUYER' });
    expect(ruled.status).toBe('RULED_FOR_BUYER');
    expect(ruled.paidFrom).toBe('fund');
    expect(await poor.balance(userId)).toBe('120.00');
    // The seller's wallet gave back the 50.00 it had; 70.00 is owed.
    expect(await poor.balance(poor.sellerId)).toBe('0.00');
    expect(Number(await poor.fundBalance()) - Number(fundBefore)).toBe(-70);
    const [claim] = await p.db.query<{ amount_fen: bigint; recovered_fen: bigint }>(
      'select amount_fen, recovered_fen from recovery_claims where dispute_no = $1',
      [d.disputeNo],
    );
    expect(claim).toEqual({ amount_fen: 7000n, recovered_fen: 0n });
    // The next sale settles 100.00: 70.00 goes back to the fund, 30.00 to the seller.
    const next = await poor.buyer('100.00');
    const t2 = await poor.shippedTrade(next.userId, '100.00');
    await p.escrow.confirmReceipt(next.actor, { tradeNo: t2 });
    const [s] = (await p.settlements.run()).filter((x) => x.sellerId === poor.sellerId);
    expect([s?.grossAmount, s?.recoveryAmount, s?.payoutAmount]).toEqual(['100.00', '70.00', '30.00']);
    expect(await poor.balance(poor.sellerId)).toBe('30.00');
    expect(await poor.fundBalance()).toBe(fundBefore);
    // The dispute window closes 15 days after release.
    advanceDays(clock, 16);
    await rejects(p.afterSale.openDispute(next.actor, { tradeNo: t2 }, { reason: 'late' }), 'DISPUTE_WINDOW_OVER');
  });

  it('an operator writes off a claim the seller will never repay: a loss, no longer collected', async () => {
    const p = platform();
    const gone = await marketplace(p, { feeBps: 0 });
    const { userId, actor } = await gone.buyer('50.00');
    const tradeNo = await gone.shippedTrade(userId, '50.00');
    await p.escrow.confirmReceipt(actor, { tradeNo });
    await p.settlements.run();
    const other = await gone.buyer('0.00');
    await p.payouts.transfer({
      appId: gone.appId,
      outBizNo: 'all-gone',
      transAmount: '50.00',
      productCode: 'TRANS_ACCOUNT_NO_PWD',
      bizScene: 'DIRECT_TRANSFER',
      payeeIdentity: other.userId,
      payeeIdentityType: 'ALIPAY_USER_ID',
    });
    const d = await p.afterSale.openDispute(actor, { tradeNo }, { reason: 'empty box' });
    await p.afterSale.rule(gone.operator, d.disputeNo, { decision: 'BUYER' });
    const before = await p.afterSale.losses();
    await rejects(p.afterSale.writeOffClaim(gone.seller, d.disputeNo), 'ACCESS_FORBIDDEN');
    expect(await p.afterSale.writeOffClaim(gone.operator, d.disputeNo)).toBe('50.00');
    expect(await p.afterSale.writeOffClaim(gone.operator, d.disputeNo)).toBe('0.00');
    const after = await p.afterSale.losses();
    expect(after.lossFen - before.lossFen).toBe(5000n);
    // The seller's next income is its own again: nothing is taken for the written-off claim.
    const next = await gone.buyer('20.00');
    const t2 = await gone.shippedTrade(next.userId, '20.00');
    await p.escrow.confirmReceipt(next.actor, { tradeNo: t2 });
    const [s] = (await p.settlements.run()).filter((x) => x.sellerId === gone.sellerId);
    expect([s?.recoveryAmount, s?.payoutAmount]).toEqual(['0.00', '20.00']);
  });

  it('splits released proceeds among receivers; percentages take exactly the whole', async () => {
    const p = platform();
    const { userId, actor } = await shop.buyer('100.00');
    const tradeNo = await shop.shippedTrade(userId, '100.00');
    const r1 = await shop.buyer('0.00');
    const r2 = await shop.buyer('0.00');
    const r3 = await shop.buyer('0.00');
    const split = () =>
      p.royalties.settle(
        shop.appId,
        { tradeNo },
        {
          outRequestNo: 'split-1',
          parameters: [
            { transIn: r1.userId, amountPercentage: '33.3333' },
            { transIn: r2.userId, amountPercentage: '33.3333' },
            { transIn: r3.userId, amountPercentage: '33.3334' },
          ],
        },
      );
    await rejects(split(), 'TRADE_STATUS_ERROR');
    await p.escrow.confirmReceipt(actor, { tradeNo });
    const done = await split();
    expect(done.status).toBe('SUCCESS');
    // 99.00 after the 1% fee, split three ways with nothing lost.
    const parts = done.parts.map((x) => x.amount);
    expect(
      parts
        .map(Number)
        .reduce((a, b) => a + b, 0)
        .toFixed(2),
    ).toBe('99.00');
    expect(await shop.balance(r3.userId)).toBe(parts[2]);
    // Idempotent; the same number with other parameters is refused.
    expect((await split()).parts).toEqual(done.parts);
    await rejects(
      p.royalties.settle(
        shop.appId,
        { tradeNo },
        { outRequestNo: 'split-1', parameters: [{ transIn: r1.userId, amount: '1.00' }] },
      ),
      'CONTEXT_INCONSISTENT',
    );
    await rejects(
      p.royalties.settle(
        shop.appId,
        { tradeNo },
        { outRequestNo: 'split-2', parameters: [{ transIn: r1.userId, amount: '0.01' }] },
      ),
      'ALLOC_AMOUNT_VALIDATE_ERROR',
    );
    const t = await p.trades.byTradeNo(tradeNo);
    expect(t.escrow?.royaltyAmount).toBe('99.00');
  });

  it('refuses wrong actors and bad input, writing nothing', async () => {
    const p = platform();
    const { userId, actor } = await shop.buyer('100.00');
    const stranger = await shop.buyer('100.00');
    const tradeNo = await shop.paidTrade(userId, '10.00');
    const other = await marketplace(p);
    const before = await p.db.query<{ n: bigint }>('select count(*)::int8 as n from trade_transitions');
    await rejects(
      p.escrow.ship({ kind: 'buyer', userId }, { tradeNo }, { company: 'SF', trackingNo: 'X1' }),
      'ACCESS_FORBIDDEN',
    );
    await rejects(p.escrow.ship(other.seller, { tradeNo }, { company: 'SF', trackingNo: 'X1' }), 'TRADE_NOT_EXIST');
    await rejects(p.escrow.ship(shop.seller, { tradeNo }, { company: '', trackingNo: 'X1' }), 'INVALID_PARAMETER');
    await rejects(p.escrow.ship(shop.seller, { tradeNo }, { company: 'SF', trackingNo: 'x y' }), 'INVALID_PARAMETER');
    await rejects(p.escrow.confirmReceipt(shop.seller, { tradeNo }), 'ACCESS_FORBIDDEN');
    await rejects(p.escrow.confirmReceipt(stranger.actor, { tradeNo }), 'TRADE_NOT_EXIST');
    await rejects(p.escrow.confirmReceipt(actor, { tradeNo }), 'TRADE_STATUS_ERROR');
    await rejects(
      p.afterSale.requestRefund(actor, { tradeNo }, { amount: '1e3', reason: 'x' }),
      'REASON_TRADE_REFUND_FEE_ERR',
    );
    await rejects(
      p.afterSale.requestRefund(actor, { tradeNo }, { amount: '-1', reason: 'x' }),
      'REASON_TRADE_REFUND_FEE_ERR',
    );
    await rejects(
      p.afterSale.requestRefund(actor, { tradeNo }, { amount: '0.001', reason: 'x' }),
      'REASON_TRADE_REFUND_FEE_ERR',
    );
    await rejects(p.afterSale.requestRefund(actor, { tradeNo }, { amount: '1.00', reason: '' }), 'INVALID_PARAMETER');
    await rejects(
      p.afterSale.requestRefund(shop.seller, { tradeNo }, { amount: '1.00', reason: 'x' }),
      'ACCESS_FORBIDDEN',
    );
    await rejects(p.afterSale.openDispute(actor, { tradeNo }, { reason: 'x' }), 'TRADE_STATUS_ERROR');
    await rejects(p.afterSale.agree(shop.seller, 'RC-nope'), 'CASE_NOT_EXIST');
    await rejects(p.afterSale.rule(shop.operator, 'DP-nope', { decision: 'BUYER' }), 'DISPUTE_NOT_EXIST');
    await rejects(
      p.royalties.settle(
        other.appId,
        { tradeNo },
        { outRequestNo: 's', parameters: [{ transIn: userId, amount: '1.00' }] },
      ),
      'TRADE_NOT_EXIST',
    );
    const after = await p.db.query<{ n: bigint }>('select count(*)::int8 as n from trade_transitions');
    expect(after).toEqual(before);
    expect(await shop.balance(userId)).toBe('90.00');
  });
});

describe('refund case deadlines: a silent party lets the case move', () => {
  const day = 86_400_000;
  const nowMs = () => Number(clock.nowNs() / 1_000_000n);
  async function caseMoves(caseNo: string): Promise<string[]> {
    const rows = await platform().db.query<{ from_status: string; to_status: string; actor: string }>(
      'select from_status, to_status, actor from after_sale_transitions where subject = $1 order by at, to_status',
      [caseNo],
    );
    return rows.map((r) => `${r.from_status ?? ''}>${r.to_status} by ${r.actor}`);
  }

  /** A buyer with 100.00, a shipped trade of `total`, and the buyer's refund request of `refund` on it. */
  async function requested(total: string, refund: string, needReturn = false) {
    const p = platform();
    const { userId, actor } = await shop.buyer('100.00');
    const tradeNo = await shop.shippedTrade(userId, total);
    const askedMs = nowMs();
    const c = await p.afterSale.requestRefund(
      actor,
      { tradeNo },
      { amount: refund, reason: 'not as described', needReturn },
    );
    return { p, userId, actor, tradeNo, c, askedMs };
  }

  it('a seller silent for 5 days agrees: the refund is paid, the rest releases after the grace period', async () => {
    const { p, userId, actor, tradeNo, c, askedMs } = await requested('50.00', '20.00');
    expect(c.dueAt?.getTime()).toBe(askedMs + 5 * day);
    advanceDays(clock, 4.9);
    await p.afterSale.sweep();
    expect((await p.afterSale.getCase(actor, c.caseNo)).status).toBe('WAIT_SELLER_AGREE');
    advanceDays(clock, 0.2);
    expect(await p.afterSale.sweep()).toBeGreaterThanOrEqual(1);
    const done = await p.afterSale.getCase(actor, c.caseNo);
    expect(done).toMatchObject({ status: 'REFUND_SUCCESS', dueAt: null });
    expect(await shop.balance(userId)).toBe('70.00');
    expect(await caseMoves(c.caseNo)).toEqual([
      expect.stringMatching(/^>WAIT_SELLER_AGREE by buyer:/),
      'WAIT_SELLER_AGREE>REFUNDING by deadline',
      'REFUNDING>REFUND_SUCCESS by refund',
    ]);
    expect((await p.trades.byTradeNo(tradeNo)).escrow?.caseOpen).toBe(false);
    advanceDays(clock, 11);
    await p.escrow.sweep();
    const released = await p.trades.byTradeNo(tradeNo);
    expect(released).toMatchObject({ status: 'TRADE_FINISHED', refundedAmount: '20.00' });
    // A second sweep finds nothing more to do.
    expect(await p.afterSale.sweep()).toBe(0);
  });

  it('goods to come back: a silent seller agrees, a buyer who does not send them in 7 days gives up', async () => {
    const { p, userId, actor, tradeNo, c } = await requested('30.00', '30.00', true);
    advanceDays(clock, 5.1);
    await p.afterSale.sweep();
    const agreed = await p.afterSale.getCase(actor, c.caseNo);
    expect(agreed.status).toBe('WAIT_BUYER_RETURN_GOODS');
    expect(agreed.dueAt?.getTime()).toBe(nowMs() + 7 * day);
    advanceDays(clock, 7.1);
    await p.afterSale.sweep();
    expect(await p.afterSale.getCase(actor, c.caseNo)).toMatchObject({ status: 'REFUND_CLOSED', dueAt: null });
    expect(await shop.balance(userId)).toBe('70.00');
    expect((await p.trades.byTradeNo(tradeNo)).escrow?.caseOpen).toBe(false);
  });

  it('returned goods a seller does not confirm in 10 days are refunded', async () => {
    const { p, userId, actor, tradeNo, c } = await requested('30.00', '30.00', true);
    await p.afterSale.agree(shop.seller, c.caseNo);
    const sent = await p.afterSale.returnGoods(actor, c.caseNo, { company: 'SF', trackingNo: 'SF9' });
    expect(sent.dueAt?.getTime()).toBe(nowMs() + 10 * day);
    advanceDays(clock, 9.9);
    await p.afterSale.sweep();
    expect((await p.afterSale.getCase(actor, c.caseNo)).status).toBe('WAIT_SELLER_CONFIRM_GOODS');
    advanceDays(clock, 0.2);
    await p.afterSale.sweep();
    expect((await p.afterSale.getCase(actor, c.caseNo)).status).toBe('REFUND_SUCCESS');
    expect(await shop.balance(userId)).toBe('100.00');
    expect((await p.trades.byTradeNo(tradeNo)).status).toBe('TRADE_CLOSED');
  });

  it('a refused case waits on nobody; a dispute freezes a waiting case past its deadline until the ruling', async () => {
    const p = platform();
    const { userId, actor } = await shop.buyer('100.00');
    const refusedTrade = await shop.shippedTrade(userId, '10.00');
    const r = await p.afterSale.requestRefund(actor, { tradeNo: refusedTrade }, { amount: '10.00', reason: 'x' });
    expect((await p.afterSale.refuse(shop.seller, r.caseNo, 'no')).dueAt).toBeNull();

    const tradeNo = await shop.shippedTrade(userId, '40.00');
    const c = await p.afterSale.requestRefund(actor, { tradeNo }, { amount: '40.00', reason: 'never came' });
    const d = await p.afterSale.openDispute(actor, { tradeNo }, { reason: 'never came' });
    advanceDays(clock, 6);
    await p.afterSale.sweep();
    expect((await p.afterSale.getCase(actor, c.caseNo)).status).toBe('WAIT_SELLER_AGREE');
    expect(await shop.balance(userId)).toBe('50.00');
    await p.afterSale.rule(shop.operator, d.disputeNo, { decision: 'SELLER' });
    expect(await p.afterSale.getCase(actor, c.caseNo)).toMatchObject({ status: 'REFUND_CLOSED', dueAt: null });
    await p.afterSale.sweep();
    expect(await shop.balance(userId)).toBe('50.00');
  });
});
