/**
 * The channel order state machine against a scripted bank (a `BankAdapter` whose answers the
 * test chooses), for what the simulator cannot be made to say: a refused query says nothing
 * about the order (it stays UNKNOWN, the hold stays held), a bank that answers with another
 * amount is not believed, and only the bank's confirmation moves the money.
 */
import { describe, expect, it } from 'vitest';
import {
  type BankAdapter,
  type BankAnswer,
  type BankOrder,
  Channels,
  defaultChannelBanks,
} from '../../src/channels/index.ts';
import { usePlatform } from '../support/engine.ts';

type Script = { payout: BankAnswer<BankOrder>[]; query: BankAnswer<BankOrder>[] };

let agreements = 0;

function scriptedBank(script: Script): BankAdapter {
  const agreementNo = `AG${++agreements}`;
  const next = <T>(list: BankAnswer<T>[]): BankAnswer<T> => list.shift() ?? { kind: 'unknown', reason: 'script ended' };
  return {
    code: 'ICBC',
    createGatewayOrder: async () => ({ kind: 'unknown', reason: 'not scripted' }),
    requestAgreement: async () => ({ kind: 'ok', value: { agreementNo, status: 'PENDING' } }),
    confirmAgreement: async () => ({ kind: 'ok', value: { agreementNo, status: 'ACTIVE' } }),
    withhold: async () => ({ kind: 'unknown', reason: 'not scripted' }),
    payout: async () => next(script.payout),
    query: async () => next(script.query),
    verifyCallback: () => null,
    verifyReturn: () => null,
    fetchStatement: async () => ({ kind: 'ok', value: [] }),
  };
}

const platform = usePlatform();

async function setUp(script: Script) {
  const p = platform();
  const banks = defaultChannelBanks('http://127.0.0.1:9').filter((b) => b.code === 'ICBC');
  const channels = new Channels(
    p.db,
    p.ledger,
    { walletOf: async (userId) => (await p.members.getMember(userId)).walletAccountId },
    p.clock,
    { banks, adapters: new Map([['ICBC', scriptedBank(script)]]), publicUrl: () => 'http://127.0.0.1:9' },
  );
  const phone = `1330000${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
  const { userId } = await p.members.createUser({ phone, password: 'password-1', openingBalance: 10_000n });
  const card = await channels.cards.bind(userId, { bank: 'ICBC', cardNo: '6222020000000009', name: 'Zhao Liu', phone });
  await channels.cards.confirm(userId, card.cardId, '123456');
  return { channels, userId, cardId: card.cardId };
}

const order = (orderNo: string, status: BankOrder['status'], amountFen: bigint): BankOrder => ({
  orderNo,
  kind: 'PAYOUT',
  amountFen,
  status,
  failCode: status === 'FAILED' ? 'CARD_NOT_FOUND' : null,
  bankSerial: 'S1',
});

describe('the channel order state machine', () => {
  it('a refused query or a wrong amount changes nothing; the bank’s confirmation does', async () => {
    const script: Script = {
      payout: [{ kind: 'unknown', reason: 'timeout' }],
      query: [{ kind: 'refused', code: 'INVALID_SIGNATURE', message: 'stale timestamp' }],
    };
    const { channels, userId, cardId } = await setUp(script);
    const sent = await channels.withdraw(userId, { cardId, amount: '40.00', idempotencyKey: 'w1' });
    expect(sent.status).toBe('UNKNOWN');
    expect(await platform().members.walletBalance(userId)).toBe(6_000n);

    expect((await channels.resolve(sent.orderNo, { waits: [] })).status).toBe('UNKNOWN');
    script.query.push({ kind: 'ok', value: order(sent.orderNo, 'SUCCESS', 9_999n) });
    expect((await channels.resolve(sent.orderNo, { waits: [] })).status).toBe('UNKNOWN');
    expect(await platform().members.walletBalance(userId)).toBe(6_000n);

    script.query.push({ kind: 'ok', value: order(sent.orderNo, 'FAILED', 4_000n) });
    const failed = await channels.resolve(sent.orderNo, { waits: [] });
    expect(failed).toMatchObject({ status: 'FAILED', failCode: 'CARD_NOT_FOUND' });
    expect(await platform().members.walletBalance(userId)).toBe(10_000n);
    const transitions = await platform().db.query<{ from_status: string; to_status: string }>(
      'select from_status, to_status from channel_order_transitions where order_no = $1 order by at',
      [sent.orderNo],
    );
    expect(transitions.map((t) => `${t.from_status}>${t.to_status}`)).toEqual([
      'CREATED>IN_FLIGHT',
      'IN_FLIGHT>UNKNOWN',
      'UNKNOWN>FAILED',
    ]);
  });

  it('a bank that has no such order gets the same order again, and its answer settles it', async () => {
    const script: Script = {
      payout: [{ kind: 'unknown', reason: 'timeout' }],
      query: [{ kind: 'refused', code: 'ORDER_NOT_FOUND', message: 'no such order' }],
    };
    const { channels, userId, cardId } = await setUp(script);
    const sent = await channels.withdraw(userId, { cardId, amount: '25.00', idempotencyKey: 'w2' });
    script.payout.push({ kind: 'ok', value: order(sent.orderNo, 'SUCCESS', 2_500n) });
    expect((await channels.resolve(sent.orderNo, { waits: [] })).status).toBe('SUCCESS');
    expect(await platform().members.walletBalance(userId)).toBe(7_500n);
  });
});
