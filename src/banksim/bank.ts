import { randomBytes, randomInt } from 'node:crypto';
import type { BankOrderKind, BankOrderStatus } from '../core/bank-protocol.ts';
import type { Clock } from '../core/clock.ts';
import { csvRecords } from '../core/csv.ts';
import type { Db, Queryable } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { formatAmount, parseAmount } from '../core/money.ts';
import { beijingOffsetMs, beijingTime, dateFromNs } from '../core/time.ts';
import { moveMoney, openingAccount } from './books.ts';
import type { BankConfig, CustomerConfig } from './config.ts';
import { BankSimError, type FailCode } from './errors.ts';
import type { Faults } from './faults.ts';

/** An order as the merchant API, the callback and the statement show it (wire names). */
export interface OrderView {
  bank: string;
  merchant_id: string;
  order_no: string;
  kind: BankOrderKind;
  amount: string;
  status: BankOrderStatus;
  fail_code: FailCode | null;
  bank_serial: string;
  batch_no: string | null;
  created_at: string;
  finished_at: string | null;
}

interface OrderRow {
  bank: string;
  merchant_id: string;
  order_no: string;
  kind: BankOrderKind;
  fingerprint: string;
  amount_fen: bigint;
  status: BankOrderStatus;
  fail_code: FailCode | null;
  serial: string;
  card_no: string | null;
  agreement_no: string | null;
  batch_no: string | null;
  subject: string;
  notify_url: string | null;
  return_url: string | null;
  page_token: string | null;
  password_attempts: number;
  created_at: Date;
  finished_at: Date | null;
}

interface BankRow {
  code: string;
  name: string;
  payment_max_fen: bigint;
  daily_max_fen: bigint;
  payout_max_fen: bigint;
}

export interface NewOrder {
  orderNo: string;
  amountFen: bigint;
  notifyUrl?: string | undefined;
}
export interface GatewayOrderInput extends NewOrder {
  subject: string;
  returnUrl?: string | undefined;
}
export interface WithholdInput extends NewOrder {
  agreementNo: string;
}
export interface PayoutInput extends NewOrder {
  cardNo: string;
  name: string;
  batchNo?: string | undefined;
}

const view = (o: OrderRow): OrderView => ({
  bank: o.bank,
  merchant_id: o.merchant_id,
  order_no: o.order_no,
  kind: o.kind,
  amount: formatAmount(o.amount_fen),
  status: o.status,
  fail_code: o.fail_code,
  bank_serial: o.serial,
  batch_no: o.batch_no,
  created_at: beijingTime(o.created_at),
  finished_at: o.finished_at ? beijingTime(o.finished_at) : null,
});

const fen = (yuan: string): bigint => {
  const v = parseAmount(yuan);
  if (v === undefined) throw new Error(`bad amount in configuration: ${yuan}`);
  return v;
};

const settlementOf = (merchantId: string) => `SETTLE-${merchantId}`;

/**
 * The banks: their books, orders, agreements and SMS outbox, all in the simulator's database.
 * Every write is one transaction; an order's money moves in the transaction that makes it final,
 * so an order is never SUCCESS without its journal entry, nor the entry without the order.
 */
export class Banks {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #faults: Faults;
  /** bank code → merchant id → secret; loaded at open, changed only by `seed`. */
  readonly #secrets = new Map<string, Map<string, string>>();

  constructor(db: Db, clock: Clock, faults: Faults) {
    this.#db = db;
    this.#clock = clock;
    this.#faults = faults;
  }

  #now(): Date {
    return dateFromNs(this.#clock.nowNs());
  }

  /** Creates the configured banks, accounts and merchants that do not exist yet; keeps the rest. */
  async seed(banks: readonly BankConfig[]): Promise<void> {
    for (const b of banks) {
      await this.#db.transaction(async (tx) => {
        await tx.query(
          `insert into banksim_banks (code, name, payment_max_fen, daily_max_fen, payout_max_fen)
           values ($1, $2, $3, $4, $5) on conflict (code) do nothing`,
          [b.code, b.name, fen(b.paymentMax), fen(b.dailyMax), fen(b.payoutMax)],
        );
        await tx.query(
          `insert into banksim_accounts (bank, account_no, kind, name) values ($1, $2, 'opening', 'opening balances')
           on conflict do nothing`,
          [b.code, openingAccount],
        );
        for (const c of b.customers) await this.#addCustomer(tx, b.code, c);
        for (const m of b.merchants) {
          await this.#openAccount(tx, b.code, settlementOf(m.id), 'settlement', m.settlementBalance, {
            name: `${m.id} settlement`,
          });
          await tx.query(
            `insert into banksim_merchants (bank, merchant_id, secret, settlement_account) values ($1, $2, $3, $4)
             on conflict do nothing`,
            [b.code, m.id, m.secret, settlementOf(m.id)],
          );
        }
      });
    }
    const rows = await this.#db.query<{ bank: string; merchant_id: string; secret: string }>(
      'select bank, merchant_id, secret from banksim_merchants',
    );
    for (const r of rows) {
      const m = this.#secrets.get(r.bank) ?? new Map<string, string>();
      m.set(r.merchant_id, r.secret);
      this.#secrets.set(r.bank, m);
    }
  }

  /** Adds a customer account funded from the opening account (admin API, tests). */
  async addCustomer(bank: string, customer: CustomerConfig): Promise<boolean> {
    await this.bank(bank);
    return this.#db.transaction((tx) => this.#addCustomer(tx, bank, customer));
  }

  #addCustomer(tx: Queryable, bank: string, c: CustomerConfig): Promise<boolean> {
    return this.#openAccount(tx, bank, c.cardNo, 'customer', c.balance, c);
  }

  async #openAccount(
    tx: Queryable,
    bank: string,
    accountNo: string,
    kind: 'customer' | 'settlement',
    balance: string,
    who: { name: string; phone?: string; password?: string },
  ): Promise<boolean> {
    const inserted = await tx.query(
      `insert into banksim_accounts (bank, account_no, kind, name, phone, password) values ($1, $2, $3, $4, $5, $6)
       on conflict do nothing returning 1`,
      [bank, accountNo, kind, who.name, who.phone ?? '', who.password ?? ''],
    );
    if (inserted.length === 0) return false;
    const amountFen = fen(balance);
    if (amountFen > 0n) {
      const at = this.#now();
      await moveMoney(tx, { bank, serial: `OPEN-${accountNo}`, from: openingAccount, to: accountNo, amountFen, at });
    }
    return true;
  }

  /** The secret `merchantId` shares with `bank`, or undefined. */
  secretOf(bank: string, merchantId: string): string | undefined {
    return this.#secrets.get(bank)?.get(merchantId);
  }

  hasBank(bank: string): boolean {
    return this.#secrets.has(bank);
  }

  async bank(code: string, q: Queryable = this.#db): Promise<BankRow> {
    const [row] = await q.query<BankRow>('select * from banksim_banks where code = $1', [code]);
    if (!row) throw new BankSimError('BANK_NOT_FOUND', code);
    return row;
  }

  /** Banks with their limits and accounts (admin API). */
  async listBanks(): Promise<unknown[]> {
    const banks = await this.#db.query<BankRow>('select * from banksim_banks order by code');
    const accounts = await this.#db.query<{
      bank: string;
      account_no: string;
      kind: string;
      name: string;
      phone: string;
      balance_fen: bigint;
    }>('select bank, account_no, kind, name, phone, balance_fen from banksim_accounts order by bank, kind, account_no');
    return banks.map((b) => ({
      code: b.code,
      name: b.name,
      payment_max: formatAmount(b.payment_max_fen),
      daily_max: formatAmount(b.daily_max_fen),
      payout_max: formatAmount(b.payout_max_fen),
      accounts: accounts
        .filter((a) => a.bank === b.code)
        .map((a) => ({
          account_no: a.account_no,
          kind: a.kind,
          name: a.name,
          phone: a.phone,
          balance: formatAmount(a.balance_fen),
        })),
    }));
  }

  async #serial(tx: Queryable, bank: string, at: Date): Promise<string> {
    const [row] = await tx.query<{ n: bigint }>("select nextval('banksim_serial_seq') as n");
    if (!row) throw new Error('nextval returned nothing');
    return `${bank}${beijingTime(at).slice(0, 10).replaceAll('-', '')}${String(row.n).padStart(10, '0')}`;
  }

  /**
   * Claims `orderNo` for a new order, or answers the order already under it: the same
   * fingerprint replays it, another is a conflict. Returns [row, created].
   */
  async #claim(
    tx: Queryable,
    o: {
      bank: string;
      merchantId: string;
      orderNo: string;
      kind: BankOrderKind;
      fingerprint: string;
      amountFen: bigint;
    } & Partial<
      Pick<OrderRow, 'card_no' | 'agreement_no' | 'batch_no' | 'subject' | 'notify_url' | 'return_url' | 'page_token'>
    >,
  ): Promise<[OrderRow, boolean]> {
    const [existing] = await tx.query<OrderRow>(
      'select * from banksim_orders where bank = $1 and merchant_id = $2 and order_no = $3 for update',
      [o.bank, o.merchantId, o.orderNo],
    );
    if (existing) {
      if (existing.fingerprint !== o.fingerprint) throw new BankSimError('ORDER_PARAMS_CONFLICT', o.orderNo);
      return [existing, false];
    }
    const at = this.#now();
    const serial = await this.#serial(tx, o.bank, at);
    const [row] = await tx.query<OrderRow>(
      `insert into banksim_orders (bank, merchant_id, order_no, kind, fingerprint, amount_fen, status, serial, card_no,
         agreement_no, batch_no, subject, notify_url, return_url, page_token, created_at, value_date)
       values ($1, $2, $3, $4, $5, $6, 'PROCESSING', $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) returning *`,
      [
        o.bank,
        o.merchantId,
        o.orderNo,
        o.kind,
        o.fingerprint,
        o.amountFen,
        serial,
        o.card_no ?? null,
        o.agreement_no ?? null,
        o.batch_no ?? null,
        o.subject ?? '',
        o.notify_url ?? null,
        o.return_url ?? null,
        o.page_token ?? null,
        at.toISOString(),
        beijingTime(at).slice(0, 10),
      ],
    );
    if (!row) throw new Error('insert returned nothing');
    return [row, true];
  }

  /** Makes a PROCESSING order final and queues its callback (twice when the fault says so). */
  async #finish(tx: Queryable, o: OrderRow, fail: FailCode | null): Promise<OrderRow> {
    const at = this.#now();
    const [row] = await tx.query<OrderRow>(
      `update banksim_orders set status = $4, fail_code = $5, finished_at = $6
        where bank = $1 and merchant_id = $2 and order_no = $3 and status = 'PROCESSING' returning *`,
      [o.bank, o.merchant_id, o.order_no, fail ? 'FAILED' : 'SUCCESS', fail, at.toISOString()],
    );
    if (!row) throw new Error(`finish: ${o.bank}/${o.order_no} is not PROCESSING`);
    if (row.notify_url) {
      const body = JSON.stringify(view(row));
      const key = `${row.bank}/${row.merchant_id}/${row.order_no}`;
      const copies = this.#faults.duplicateCallback(key) ? [false, true] : [false];
      for (const duplicate of copies) {
        await tx.query(
          `insert into banksim_callbacks (bank, merchant_id, order_no, url, body, duplicate, next_at)
           values ($1, $2, $3, $4, $5, $6, $7)`,
          [row.bank, row.merchant_id, row.order_no, row.notify_url, body, duplicate, new Date().toISOString()],
        );
      }
    }
    return row;
  }

  /** Debits a customer's card into the merchant's settlement account, within the bank's limits. */
  async #debitCustomer(tx: Queryable, o: OrderRow, cardNo: string): Promise<FailCode | null> {
    const bank = await this.bank(o.bank, tx);
    if (o.amount_fen > bank.payment_max_fen) return 'PAYMENT_LIMIT_EXCEEDED';
    const [card] = await tx.query<{ balance_fen: bigint }>(
      "select balance_fen from banksim_accounts where bank = $1 and account_no = $2 and kind = 'customer' for update",
      [o.bank, cardNo],
    );
    if (!card) return 'CARD_NOT_FOUND';
    const today = beijingTime(this.#now()).slice(0, 10);
    const [spent] = await tx.query<{ fen: string }>(
      `select coalesce(sum(amount_fen), 0)::text as fen from banksim_orders
        where bank = $1 and card_no = $2 and value_date = $3 and status = 'SUCCESS' and kind in ('GATEWAY', 'WITHHOLD')`,
      [o.bank, cardNo, today],
    );
    if (BigInt(spent?.fen ?? '0') + o.amount_fen > bank.daily_max_fen) return 'DAILY_LIMIT_EXCEEDED';
    const moved = await moveMoney(tx, {
      bank: o.bank,
      serial: o.serial,
      from: cardNo,
      to: settlementOf(o.merchant_id),
      amountFen: o.amount_fen,
      at: this.#now(),
    });
    if (!moved) return 'INSUFFICIENT_BALANCE';
    // The card the money came from dates the daily limit: a gateway order learns it only now.
    await tx.query(
      'update banksim_orders set card_no = $4, value_date = $5 where bank = $1 and merchant_id = $2 and order_no = $3',
      [o.bank, o.merchant_id, o.order_no, cardNo, today],
    );
    return null;
  }

  // ---- gateway payments ----

  async createGatewayOrder(
    bank: string,
    merchantId: string,
    input: GatewayOrderInput,
  ): Promise<OrderView & { page_token: string }> {
    await this.bank(bank);
    return this.#db.transaction(async (tx) => {
      const fingerprint = JSON.stringify([
        'GATEWAY',
        input.amountFen.toString(),
        input.subject,
        input.notifyUrl ?? '',
        input.returnUrl ?? '',
      ]);
      const [row] = await this.#claim(tx, {
        bank,
        merchantId,
        orderNo: input.orderNo,
        kind: 'GATEWAY',
        fingerprint,
        amountFen: input.amountFen,
        subject: input.subject,
        notify_url: input.notifyUrl ?? null,
        return_url: input.returnUrl ?? null,
        page_token: randomBytes(16).toString('hex'),
      });
      return { ...view(row), page_token: row.page_token ?? '' };
    });
  }

  /** The order behind a payment page, expiring it first when it waited too long. */
  async gatewayOrder(bank: string, token: string): Promise<OrderView & { subject: string; return_url: string | null }> {
    const row = await this.#db.transaction(async (tx) => {
      const [o] = await tx.query<OrderRow>(
        'select * from banksim_orders where bank = $1 and page_token = $2 for update',
        [bank, token],
      );
      if (!o) throw new BankSimError('NOT_FOUND');
      return this.#expire(tx, o);
    });
    return { ...view(row), subject: row.subject, return_url: row.return_url };
  }

  async #expire(tx: Queryable, o: OrderRow): Promise<OrderRow> {
    const expired =
      o.kind === 'GATEWAY' &&
      o.status === 'PROCESSING' &&
      this.#now().getTime() - o.created_at.getTime() > limits.bankSimGatewayOrderTtlMs;
    return expired ? this.#finish(tx, o, 'ORDER_EXPIRED') : o;
  }

  /**
   * The customer pays on the page with card number and password. A wrong password or an unknown
   * card answers `retry` (the order waits) until `bankSimPasswordAttemptsMax` wrong tries fail it.
   */
  async payGateway(
    bank: string,
    token: string,
    cardNo: string,
    password: string,
  ): Promise<{ order: OrderView; retry?: string; returnParams?: Record<string, string> }> {
    const result = await this.#db.transaction(async (tx) => {
      const [found] = await tx.query<OrderRow>(
        'select * from banksim_orders where bank = $1 and page_token = $2 for update',
        [bank, token],
      );
      if (!found) throw new BankSimError('NOT_FOUND');
      const o = await this.#expire(tx, found);
      if (o.status !== 'PROCESSING') return { row: o };
      const [card] = await tx.query<{ password: string }>(
        "select password from banksim_accounts where bank = $1 and account_no = $2 and kind = 'customer'",
        [bank, cardNo],
      );
      if (!card || card.password !== password) {
        const [counted] = await tx.query<OrderRow>(
          `update banksim_orders set password_attempts = password_attempts + 1
            where bank = $1 and merchant_id = $2 and order_no = $3 returning *`,
          [o.bank, o.merchant_id, o.order_no],
        );
        if (!counted) throw new Error('order vanished under its lock');
        if (counted.password_attempts >= limits.bankSimPasswordAttemptsMax)
          return { row: await this.#finish(tx, counted, 'WRONG_PASSWORD') };
        return { row: counted, retry: 'Wrong card number or password.' };
      }
      const fail = await this.#debitCustomer(tx, o, cardNo);
      return { row: await this.#finish(tx, o, fail) };
    });
    return { order: view(result.row), ...(result.retry ? { retry: result.retry } : {}) };
  }

  /** The parameters the browser carries back to the return URL (signed by the HTTP layer). */
  static returnParams(o: OrderView): Record<string, string> {
    const { bank, merchant_id, order_no, amount, status, bank_serial } = o;
    return { bank, merchant_id, order_no, amount, status, bank_serial, timestamp: String(Date.now()) };
  }

  // ---- card binding and withholding ----

  async bind(
    bank: string,
    merchantId: string,
    input: { requestNo: string; cardNo: string; name: string; phone: string },
  ): Promise<{ agreement_no: string; status: string }> {
    await this.bank(bank);
    return this.#db.transaction(async (tx) => {
      const fingerprint = JSON.stringify([input.cardNo, input.name, input.phone]);
      const [existing] = await tx.query<{ agreement_no: string; status: string; fingerprint: string }>(
        'select * from banksim_agreements where bank = $1 and merchant_id = $2 and request_no = $3 for update',
        [bank, merchantId, input.requestNo],
      );
      if (existing) {
        if (existing.fingerprint !== fingerprint) throw new BankSimError('ORDER_PARAMS_CONFLICT', input.requestNo);
        return { agreement_no: existing.agreement_no, status: existing.status };
      }
      const [card] = await tx.query<{ name: string; phone: string }>(
        "select name, phone from banksim_accounts where bank = $1 and account_no = $2 and kind = 'customer'",
        [bank, input.cardNo],
      );
      // A bank tells the merchant only that the card details do not match, never which one.
      if (!card || card.name !== input.name || card.phone !== input.phone)
        throw new BankSimError('INVALID_REQUEST', 'card number, name and phone do not match an account');
      const at = this.#now();
      const agreementNo = `${bank}AG${randomBytes(8).toString('hex').toUpperCase()}`;
      await tx.query(
        `insert into banksim_agreements (agreement_no, bank, merchant_id, request_no, fingerprint, card_no, status, created_at)
         values ($1, $2, $3, $4, $5, $6, 'PENDING', $7)`,
        [agreementNo, bank, merchantId, input.requestNo, fingerprint, input.cardNo, at.toISOString()],
      );
      await this.#sendCode(tx, bank, input.phone, agreementNo, at);
      return { agreement_no: agreementNo, status: 'PENDING' };
    });
  }

  async #sendCode(tx: Queryable, bank: string, phone: string, agreementNo: string, at: Date): Promise<void> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await tx.query(
      `insert into banksim_sms (bank, phone, text, code, agreement_no, created_at, expires_at) values ($1, $2, $3, $4, $5, $6, $7)`,
      [
        bank,
        phone,
        `[${bank}] Your card binding code is ${code}. Valid for 5 minutes.`,
        code,
        agreementNo,
        at.toISOString(),
        new Date(at.getTime() + limits.bankSimSmsCodeTtlMs).toISOString(),
      ],
    );
  }

  async confirmBinding(
    bank: string,
    merchantId: string,
    agreementNo: string,
    smsCode: string,
  ): Promise<{ agreement_no: string; status: string }> {
    await this.bank(bank);
    return this.#db
      .transaction(async (tx) => {
        const [a] = await tx.query<{ status: string }>(
          'select status from banksim_agreements where agreement_no = $1 and bank = $2 and merchant_id = $3 for update',
          [agreementNo, bank, merchantId],
        );
        if (!a) throw new BankSimError('AGREEMENT_NOT_FOUND', agreementNo);
        if (a.status === 'ACTIVE') return { agreement_no: agreementNo, status: 'ACTIVE' };
        const now = this.#now().toISOString();
        const [sms] = await tx.query<{ id: bigint; code: string; attempts: number }>(
          `select id, code, attempts from banksim_sms where agreement_no = $1 and used_at is null and expires_at > $2
          and attempts < $3 order by id desc limit 1 for update`,
          [agreementNo, now, limits.bankSimSmsAttemptsMax],
        );
        if (!sms) throw new BankSimError('SMS_CODE_INVALID');
        if (sms.code !== smsCode) {
          await tx.query('update banksim_sms set attempts = attempts + 1 where id = $1', [sms.id]);
          return { agreement_no: agreementNo, status: 'PENDING', wrong: true };
        }
        await tx.query('update banksim_sms set used_at = $2 where id = $1', [sms.id, now]);
        await tx.query("update banksim_agreements set status = 'ACTIVE' where agreement_no = $1", [agreementNo]);
        return { agreement_no: agreementNo, status: 'ACTIVE' };
      })
      .then((r) => {
        // The wrong guess is counted (committed) before it is refused.
        if ('wrong' in r) throw new BankSimError('SMS_CODE_INVALID');
        return r;
      });
  }

  async withhold(bank: string, merchantId: string, input: WithholdInput): Promise<OrderView> {
    await this.bank(bank);
    return this.#db.transaction(async (tx) => {
      const [a] = await tx.query<{ card_no: string; status: string }>(
        'select card_no, status from banksim_agreements where agreement_no = $1 and bank = $2 and merchant_id = $3',
        [input.agreementNo, bank, merchantId],
      );
      if (!a) throw new BankSimError('AGREEMENT_NOT_FOUND', input.agreementNo);
      if (a.status !== 'ACTIVE') throw new BankSimError('AGREEMENT_NOT_ACTIVE', input.agreementNo);
      const fingerprint = JSON.stringify([
        'WITHHOLD',
        input.amountFen.toString(),
        input.agreementNo,
        input.notifyUrl ?? '',
      ]);
      const [o, created] = await this.#claim(tx, {
        bank,
        merchantId,
        orderNo: input.orderNo,
        kind: 'WITHHOLD',
        fingerprint,
        amountFen: input.amountFen,
        card_no: a.card_no,
        agreement_no: input.agreementNo,
        notify_url: input.notifyUrl ?? null,
      });
      if (!created) return view(o);
      return view(await this.#finish(tx, o, await this.#debitCustomer(tx, o, a.card_no)));
    });
  }

  // ---- payouts ----

  async #payout(tx: Queryable, bank: BankRow, merchantId: string, input: PayoutInput): Promise<OrderRow> {
    const fingerprint = JSON.stringify([
      'PAYOUT',
      input.amountFen.toString(),
      input.cardNo,
      input.name,
      input.notifyUrl ?? '',
      input.batchNo ?? '',
    ]);
    const [o, created] = await this.#claim(tx, {
      bank: bank.code,
      merchantId,
      orderNo: input.orderNo,
      kind: 'PAYOUT',
      fingerprint,
      amountFen: input.amountFen,
      card_no: input.cardNo,
      batch_no: input.batchNo ?? null,
      notify_url: input.notifyUrl ?? null,
    });
    if (!created) return o;
    return this.#finish(tx, o, await this.#credit(tx, bank, o, input));
  }

  async #credit(tx: Queryable, bank: BankRow, o: OrderRow, input: PayoutInput): Promise<FailCode | null> {
    if (o.amount_fen > bank.payout_max_fen) return 'PAYOUT_LIMIT_EXCEEDED';
    const [card] = await tx.query<{ name: string }>(
      "select name from banksim_accounts where bank = $1 and account_no = $2 and kind = 'customer'",
      [bank.code, input.cardNo],
    );
    if (!card) return 'CARD_NOT_FOUND';
    if (card.name !== input.name) return 'NAME_MISMATCH';
    const moved = await moveMoney(tx, {
      bank: bank.code,
      serial: o.serial,
      from: settlementOf(o.merchant_id),
      to: input.cardNo,
      amountFen: o.amount_fen,
      at: this.#now(),
    });
    return moved ? null : 'INSUFFICIENT_BALANCE';
  }

  async payout(bank: string, merchantId: string, input: PayoutInput): Promise<OrderView> {
    const b = await this.bank(bank);
    return view(await this.#db.transaction((tx) => this.#payout(tx, b, merchantId, input)));
  }

  /** A batch is all or nothing as a request (one conflict refuses it) but each item succeeds or fails alone. */
  async batchPayout(
    bank: string,
    merchantId: string,
    batchNo: string,
    items: readonly PayoutInput[],
  ): Promise<{ batch_no: string; items: OrderView[] }> {
    const b = await this.bank(bank);
    return this.#db.transaction(async (tx) => {
      const fingerprint = JSON.stringify(
        items.map((i) => [i.orderNo, i.amountFen.toString(), i.cardNo, i.name, i.notifyUrl ?? '']),
      );
      const [existing] = await tx.query<{ fingerprint: string }>(
        'select fingerprint from banksim_batches where bank = $1 and merchant_id = $2 and batch_no = $3 for update',
        [bank, merchantId, batchNo],
      );
      if (existing && existing.fingerprint !== fingerprint) throw new BankSimError('ORDER_PARAMS_CONFLICT', batchNo);
      if (!existing) {
        await tx.query(
          'insert into banksim_batches (bank, merchant_id, batch_no, fingerprint, created_at) values ($1, $2, $3, $4, $5)',
          [bank, merchantId, batchNo, fingerprint, this.#now().toISOString()],
        );
      }
      const out: OrderView[] = [];
      for (const item of items) out.push(view(await this.#payout(tx, b, merchantId, { ...item, batchNo })));
      return { batch_no: batchNo, items: out };
    });
  }

  async queryBatch(
    bank: string,
    merchantId: string,
    batchNo: string,
  ): Promise<{ batch_no: string; items: OrderView[] }> {
    await this.bank(bank);
    const [batch] = await this.#db.query(
      'select 1 from banksim_batches where bank = $1 and merchant_id = $2 and batch_no = $3',
      [bank, merchantId, batchNo],
    );
    if (!batch) throw new BankSimError('ORDER_NOT_FOUND', batchNo);
    const rows = await this.#db.query<OrderRow>(
      'select * from banksim_orders where bank = $1 and merchant_id = $2 and batch_no = $3 order by created_at, serial',
      [bank, merchantId, batchNo],
    );
    return { batch_no: batchNo, items: rows.map(view) };
  }

  // ---- queries and statements ----

  async query(bank: string, merchantId: string, orderNo: string): Promise<OrderView> {
    await this.bank(bank);
    const row = await this.#db.transaction(async (tx) => {
      const [o] = await tx.query<OrderRow>(
        'select * from banksim_orders where bank = $1 and merchant_id = $2 and order_no = $3 for update',
        [bank, merchantId, orderNo],
      );
      if (!o) throw new BankSimError('ORDER_NOT_FOUND', orderNo);
      return this.#expire(tx, o);
    });
    return view(row);
  }

  /**
   * The statement of `date` (Beijing, YYYY-MM-DD) as CSV: one line per order created that day,
   * in creation order, with the statement faults applied line by line.
   */
  async statement(bank: string, merchantId: string, date: string): Promise<string> {
    await this.bank(bank);
    // The Beijing day [00:00, 24:00) is [16:00 the day before, 16:00) in UTC.
    const startMs = Date.parse(`${date}T00:00:00Z`) - beijingOffsetMs;
    const rows = await this.#db.query<OrderRow>(
      `select * from banksim_orders where bank = $1 and merchant_id = $2 and created_at >= $3 and created_at < $4
        order by created_at, serial`,
      [bank, merchantId, new Date(startMs).toISOString(), new Date(startMs + 86_400_000).toISOString()],
    );
    const lines = [['bank_serial', 'order_no', 'kind', 'amount', 'status', 'time']];
    for (const o of rows) {
      const fault = this.#faults.statementLine(`${o.bank}/${o.merchant_id}/${o.order_no}`);
      if (fault === 'drop') continue;
      const amount = fault === 'amount' ? o.amount_fen + 1n : o.amount_fen;
      const flipped: Record<BankOrderStatus, BankOrderStatus> = {
        SUCCESS: 'FAILED',
        FAILED: 'SUCCESS',
        PROCESSING: 'PROCESSING',
      };
      const status = fault === 'status' ? flipped[o.status] : o.status;
      const time = beijingTime(o.finished_at ?? o.created_at);
      lines.push([String(o.serial), o.order_no, o.kind, formatAmount(amount), status, time]);
    }
    return csvRecords(lines, '\n');
  }

  async smsOutbox(phone?: string): Promise<unknown[]> {
    const rows = await this.#db.query<{
      bank: string;
      phone: string;
      text: string;
      code: string;
      agreement_no: string;
      created_at: Date;
    }>(
      `select bank, phone, text, code, agreement_no, created_at from banksim_sms
        where ($1::text is null or phone = $1) order by id desc limit $2`,
      [phone ?? null, limits.bankSimSmsListMax],
    );
    return rows.map((r) => ({ ...r, created_at: beijingTime(r.created_at) }));
  }
}
