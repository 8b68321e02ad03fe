/** A rental merchant and its customers for the pre-authorisation tests, on one platform. */
import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'vitest';
import type { Clock } from '../../src/core/clock.ts';
import { id } from '../../src/core/ids.ts';
import { cnyLedger, TransferCode } from '../../src/core/ledger-codes.ts';
import { formatAmount } from '../../src/core/money.ts';
import type { Platform } from '../../src/platform.ts';
import { type CreditService, type DebtSources, Preauths } from '../../src/preauth/index.ts';

const merchantKey = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
let people = 0;

export interface Shop {
  appId: string;
  sellerId: string;
  sellerAccount: bigint;
  /** A new customer with `balanceFen` in the wallet: user id and wallet account. */
  customer(balanceFen: bigint): Promise<{ userId: string; account: bigint }>;
  /** An account's available balance (posted credits − posted debits − pending debits) and its pending debits. */
  balance(account: bigint): Promise<{ available: bigint; held: bigint; posted: bigint }>;
}

export async function rentalShop(platform: Platform): Promise<Shop> {
  const app = await platform.members.createApp({
    name: `rental-${++people}-${process.pid}`,
    merchantPublicKeyPem: merchantKey.publicKey,
  });
  const seller = await platform.members.getMember(app.sellerId);
  return {
    appId: app.appId,
    sellerId: app.sellerId,
    sellerAccount: seller.walletAccountId,
    async customer(balanceFen) {
      const phone = `137${String(process.pid % 1e4).padStart(4, '0')}${String(++people).padStart(4, '0')}`;
      const user = await platform.members.createUser({ phone, password: 'secret-123', openingBalance: balanceFen });
      const member = await platform.members.getMember(user.userId);
      return { userId: user.userId, account: member.walletAccountId };
    },
    async balance(account) {
      const [a] = await platform.ledger.lookupAccounts([account]);
      if (!a) return { available: 0n, held: 0n, posted: 0n };
      const posted = a.creditsPosted - a.debitsPosted;
      return { available: posted - a.debitsPending, held: a.debitsPending, posted };
    },
  };
}

/**
 * Preauths on `platform`'s tables and ledger with a credit double: scores from a map (absent: N/A)
 * and restricted users a set (the dishonest-debtor list's stand-in).
 */
export function withCredit(
  platform: Platform,
  clock: Clock,
  scores: Map<string, number>,
  restricted = new Set<string>(),
  debtSources?: DebtSources,
): Preauths {
  const credit: CreditService = {
    scores: { creditScore: async (userId) => scores.get(userId) ?? null },
    restricted: async (userId) => restricted.has(userId),
  };
  const { members, trades } = platform;
  return new Preauths(
    platform.db,
    platform.ledger,
    {
      payeeOf: async (appId) => {
        const app = await members.getApp(appId).catch(() => null);
        if (!app) return null;
        return { userId: app.sellerId, accountId: (await members.getMember(app.sellerId)).walletAccountId };
      },
      payer: async (userId) => ({ userId, accountId: (await members.getMember(userId)).walletAccountId }),
    },
    {
      open: async (i) =>
        (
          await trades.openHoldPayment(
            { appId: i.appId, outTradeNo: i.outTradeNo, totalAmount: formatAmount(i.totalFen), subject: i.subject },
            i.buyerId,
          )
        ).tradeNo,
      paid: (tradeNo) => trades.recordHoldPaid(tradeNo),
      abandoned: (tradeNo) => trades.abandonHoldPayment(tradeNo),
    },
    clock,
    credit,
    debtSources,
  );
}

/** Money comes back to a user's wallet (as a top-up would bring it): `fen` from the platform's funding account. */
export async function moneyBack(platform: Platform, userId: string, fen: bigint): Promise<void> {
  const [result] = await platform.ledger.createTransfers([
    {
      id: id(),
      debitAccountId: await platform.members.fundingAccountId(),
      creditAccountId: (await platform.members.getMember(userId)).walletAccountId,
      amount: fen,
      ledger: cnyLedger,
      code: TransferCode.openingBalance,
    },
  ]);
  expect(result).toBe('ok');
}

/**
 * What the freeze paths have written, as one comparable text: orders, operations, ledger
 * transfers and spent payment codes. A refusal leaves it as it was.
 */
export async function written(platform: Platform): Promise<string | undefined> {
  const [r] = await platform.db.query<{ n: string }>(
    `select (select count(*) from preauth_orders) || '/' || (select count(*) from preauth_operations)
         || '/' || (select count(*) from ledger_transfers) || '/'
         || (select count(*) from members_payment_codes where redeemed_at_ns is not null) n`,
  );
  return r?.n;
}
