import { isChannelError } from './errors.ts';
import type { Channels } from './service.ts';

/** A settled seller payout, as the settlement job hands it on (src/trades/settlement/settlement.ts). */
export interface SettledPayout {
  sellerId: string;
  /** Decimal yuan. */
  payoutAmount: string;
  settlementNo: string;
}

/**
 * The seller-payout policy: merged seller payouts leave for the sellers' banks as batch payouts
 * (one per bank), each to the seller's first active card, idempotent by the settlement number; a
 * seller without a card, or one the bank's limits refuse, keeps the money in the wallet (null).
 * Answers, per settlement, the bank order number or null.
 */
export function payOutToCards(channels: Channels) {
  return async (settled: readonly SettledPayout[]): Promise<(string | null)[]> => {
    const cards = await Promise.all(
      settled.map(async (s) => (await channels.cards.list(s.sellerId)).find((c) => c.status === 'ACTIVE')),
    );
    const items = settled.flatMap((s, i) => {
      const card = cards[i];
      return card
        ? [
            {
              userId: s.sellerId,
              cardId: card.cardId,
              amount: s.payoutAmount,
              idempotencyKey: `settlement-${s.settlementNo}`,
            },
          ]
        : [];
    });
    const sent = await channels.withdrawBatch(items);
    let next = 0;
    return settled.map((_s, i) => {
      if (!cards[i]) return null;
      const result = sent[next++];
      return result && !isChannelError(result) ? result.orderNo : null;
    });
  };
}
