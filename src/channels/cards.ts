import { randomBytes } from 'node:crypto';
import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { dateFromNs } from '../core/time.ts';
import type { BankAdapter, BankAnswer } from './adapter.ts';
import { isCircuitOpen } from './breaker.ts';
import { ChannelError } from './errors.ts';
import type { CardRow, ChannelTables } from './tables.ts';

export type { CardRow } from './tables.ts';

/** A bound (or binding) card as its owner sees it: the number masked. */
export interface CardView {
  cardId: string;
  bank: string;
  /** The last four digits behind stars: `************0001`. */
  cardNo: string;
  status: 'PENDING' | 'ACTIVE';
  createdAt: Date;
}

const cardNoPattern = /^[0-9]{12,19}$/;
const phonePattern = /^1[0-9]{10}$/;

/**
 * Card binding ("Quick Pay"): the bank opens an agreement for card, name and phone and texts a
 * code to that phone; the user types it back and the agreement is active. A bank's refusal
 * (details do not match) writes nothing here.
 */
export class Cards {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #adapter: (bank: string) => BankAdapter;
  readonly #parties: { walletOf(userId: string): Promise<bigint | null> };

  constructor(
    db: Db,
    clock: Clock,
    adapter: (bank: string) => BankAdapter,
    parties: { walletOf(userId: string): Promise<bigint | null> },
  ) {
    this.#db = db;
    this.#clock = clock;
    this.#adapter = adapter;
    this.#parties = parties;
  }

  /** Asks the bank to bind the card; the card is PENDING until `confirm` with the SMS code. */
  async bind(userId: string, input: { bank: string; cardNo: string; name: string; phone: string }): Promise<CardView> {
    const adapter = this.#adapter(input.bank);
    if (typeof input.cardNo !== 'string' || !cardNoPattern.test(input.cardNo))
      throw new ChannelError('parameter_invalid', { param: 'card_no' });
    if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > limits.channelNameLengthMax)
      throw new ChannelError('parameter_invalid', { param: 'name' });
    if (typeof input.phone !== 'string' || !phonePattern.test(input.phone))
      throw new ChannelError('parameter_invalid', { param: 'phone' });
    if ((await this.#parties.walletOf(userId)) === null) throw new ChannelError('user_not_found');
    const cardId = `CD${randomBytes(10).toString('hex').toUpperCase()}`;
    const answer = await retried(() =>
      adapter.requestAgreement({ requestNo: cardId, cardNo: input.cardNo, name: input.name, phone: input.phone }),
    );
    if (isCircuitOpen(answer)) throw new ChannelError('bank_unavailable', { detail: 'refused by the breaker' });
    if (answer.kind === 'refused') throw new ChannelError('card_rejected', { detail: answer.message });
    if (answer.kind === 'unknown') throw new ChannelError('bank_unavailable', { detail: answer.reason });
    const row = await this.#cards()
      .insertInto('channel_cards')
      .values({
        card_id: cardId,
        user_id: userId,
        bank: input.bank,
        card_no: input.cardNo,
        name: input.name,
        phone: input.phone,
        request_no: cardId,
        agreement_no: answer.value.agreementNo,
        status: 'PENDING',
        created_at: this.#now(),
      })
      .returningAll()
      .executeTakeFirst();
    assert(row, 'insert returning yields the row');
    return cardView(row);
  }

  /** Confirms a binding with the code the bank texted; answers the card, ACTIVE. */
  async confirm(userId: string, cardId: string, smsCode: string): Promise<CardView> {
    if (typeof smsCode !== 'string' || !/^[0-9]{6}$/.test(smsCode))
      throw new ChannelError('sms_code_invalid', { param: 'sms_code' });
    const card = await this.#own(userId, cardId);
    if (card.status === 'ACTIVE') return cardView(card);
    const answer = await retried(() => this.#adapter(card.bank).confirmAgreement(card.agreement_no ?? '', smsCode));
    if (isCircuitOpen(answer)) throw new ChannelError('bank_unavailable', { detail: 'refused by the breaker' });
    if (answer.kind === 'refused') {
      if (answer.code === 'SMS_CODE_INVALID') throw new ChannelError('sms_code_invalid', { param: 'sms_code' });
      throw new ChannelError('bank_refused', { detail: `${answer.code}: ${answer.message}` });
    }
    if (answer.kind === 'unknown') throw new ChannelError('bank_unavailable', { detail: answer.reason });
    if (answer.value.status !== 'ACTIVE') throw new ChannelError('sms_code_invalid', { param: 'sms_code' });
    const now = this.#now();
    const row = await this.#cards()
      .updateTable('channel_cards')
      .set((eb) => ({ status: 'ACTIVE', activated_at: eb.fn.coalesce('activated_at', eb.val(now)) }))
      .where('card_id', '=', card.card_id)
      .returningAll()
      .executeTakeFirst();
    assert(row, 'the card being confirmed exists');
    return cardView(row);
  }

  /** The user's cards, oldest first. */
  async list(userId: string): Promise<CardView[]> {
    const rows = await this.#cards()
      .selectFrom('channel_cards')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
    return rows.map(cardView);
  }

  /** The user's card, which must be ACTIVE. */
  async activeCard(userId: string, cardId: string): Promise<CardRow> {
    const card = await this.#own(userId, cardId);
    if (card.status !== 'ACTIVE') throw new ChannelError('card_not_active', { param: 'card_id' });
    return card;
  }

  async byId(cardId: string): Promise<CardRow> {
    const row = await this.#cards()
      .selectFrom('channel_cards')
      .selectAll()
      .where('card_id', '=', cardId)
      .executeTakeFirst();
    assert(row, `card ${cardId} of a channel order exists`);
    return row;
  }

  async #own(userId: string, cardId: string): Promise<CardRow> {
    const row = await this.#cards()
      .selectFrom('channel_cards')
      .selectAll()
      .where('card_id', '=', typeof cardId === 'string' ? cardId : '')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) throw new ChannelError('card_not_found', { param: 'card_id' });
    return row;
  }

  #cards() {
    return typed<ChannelTables>(this.#db);
  }

  #now(): Date {
    return dateFromNs(this.#clock.nowNs());
  }
}

/**
 * Binding calls are idempotent at the bank (the request number, the agreement): an unanswered
 * one is simply asked again a few times, with backoff, before the user is told to retry.
 */
async function retried<T>(call: () => Promise<BankAnswer<T>>): Promise<BankAnswer<T>> {
  let answer = await call();
  for (const wait of limits.channelQueryBackoffMs.slice(0, 3)) {
    if (answer.kind !== 'unknown') return answer;
    await new Promise((r) => setTimeout(r, wait));
    answer = await call();
  }
  return answer;
}

function cardView(row: CardRow): CardView {
  return {
    cardId: row.card_id,
    bank: row.bank,
    cardNo: `${'*'.repeat(Math.max(0, row.card_no.length - 4))}${row.card_no.slice(-4)}`,
    status: row.status,
    createdAt: row.created_at,
  };
}
