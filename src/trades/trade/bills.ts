import { createHmac, timingSafeEqual } from 'node:crypto';
import { assert } from '../../core/assert.ts';
import { type CatalogEntry, CatalogError } from '../../core/catalog-error.ts';
import type { Clock } from '../../core/clock.ts';
import { csvRecords } from '../../core/csv.ts';
import type { Db } from '../../core/db/index.ts';
import { limits } from '../../core/limits.ts';
import { formatAmount } from '../../core/money.ts';
import { beijingOffsetMs, beijingTime } from '../../core/time.ts';
import { publicStatus, type TradeStatus } from './state.ts';

/**
 * The bill catalog. The gateway writes these with Alipay's namespaces: `isv.invalid_arguments`,
 * `isp.bill_not_exist` (what Alipay's gateway answers for the bill download query).
 */
export const billErrors = {
  invalid_arguments: {
    type: 'invalid_request_error',
    status: 400,
    message: 'bill_type must be trade and bill_date yyyy-MM-dd or yyyy-MM.',
  },
  bill_not_exist: { type: 'invalid_request_error', status: 404, message: 'There is no bill for that date yet.' },
} as const satisfies Record<string, CatalogEntry>;

export type BillErrorCode = keyof typeof billErrors;

export class BillError extends CatalogError<typeof billErrors> {
  declare readonly code: BillErrorCode;
  constructor(code: BillErrorCode) {
    super(billErrors, code);
    this.name = 'BillError';
  }
}

/**
 * The keys bill links are signed with: the first signs, every one verifies (so that a link
 * issued just before a key rotation still works for its short life).
 */
export type BillLinkKeys = () => Promise<readonly Uint8Array[]>;

/** An open bill: what the download route streams. */
export interface Bill {
  appId: string;
  /** yyyy-MM-dd or yyyy-MM, as asked. */
  billDate: string;
  /** `<app_id>_<bill_date>.csv` */
  filename: string;
  /** The CSV: a header line, then one line per trade, each ending in CRLF (RFC 4180). */
  lines(): AsyncGenerator<string>;
}

interface BillRow {
  trade_no: string;
  out_trade_no: string;
  subject: string;
  total_fen: bigint;
  status: TradeStatus;
  buyer_id: string | null;
  created_at: Date;
  paid_at: Date | null;
  refunded_fen: bigint;
}

export const billColumns = [
  'trade_no',
  'out_trade_no',
  'subject',
  'total_amount',
  'status',
  'buyer_id',
  'gmt_create',
  'gmt_payment',
  'refunded_amount',
] as const;

const dayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const monthPattern = /^(\d{4})-(\d{2})$/;
const tokenPattern = /^[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{43}$/;
const payloadPattern = /^v1\|(\d{1,32})\|(\d{4}-\d{2}(?:-\d{2})?)\|(\d{1,15})$/;
const macLabel = 'paybao bill link v1\n';

/**
 * Trade bills (`alipay.data.dataservice.bill.downloadurl.query`): one app's trades created in a
 * Beijing-time day (or month), as CSV behind a short-lived link. A link is a stateless token,
 * `base64url(payload).base64url(HMAC-SHA256)`, whose payload names the app, the date and the
 * expiry: nobody can make one for another app or date, or stretch its life, without the key.
 */
export class TradeBills {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly keys: BillLinkKeys,
  ) {}

  /** A link token for the app's trade bill of `billDate`. Throws `BillError`. */
  async issue(appId: string, billType: string | undefined, billDate: string | undefined): Promise<string> {
    if (billType !== 'trade' || billDate === undefined) throw new BillError('invalid_arguments');
    const range = billRange(billDate);
    if (!range) throw new BillError('invalid_arguments');
    if (range.from.getTime() > this.#nowMs()) throw new BillError('bill_not_exist');
    const expiresMs = this.#nowMs() + limits.billLinkTtlMs;
    const payload = `v1|${appId}|${billDate}|${expiresMs}`;
    const [key] = await this.keys();
    assert(key, 'there is a key to sign bill links with');
    return `${Buffer.from(payload).toString('base64url')}.${mac(key, payload).toString('base64url')}`;
  }

  /** The bill behind a token; null when the token is malformed, forged or expired. */
  async open(token: string): Promise<Bill | null> {
    if (!tokenPattern.test(token)) return null;
    const [encoded = '', signature = ''] = token.split('.');
    const payload = Buffer.from(encoded, 'base64url').toString();
    const given = Buffer.from(signature, 'base64url');
    const keys = await this.keys();
    if (!keys.some((key) => timingSafeEqual(mac(key, payload), given))) return null;
    const m = payloadPattern.exec(payload);
    if (!m) return null;
    const [, appId = '', billDate = '', expires = '0'] = m;
    if (Number(expires) <= this.#nowMs()) return null;
    const range = billRange(billDate);
    if (!range) return null;
    return {
      appId,
      billDate,
      filename: `${appId}_${billDate}.csv`,
      lines: () => this.#lines(appId, range.from, range.to),
    };
  }

  /** The CSV, read page by page in (created_at, trade_no) order so that a big day streams. */
  async *#lines(appId: string, from: Date, to: Date): AsyncGenerator<string> {
    yield csvRecords([billColumns], '\r\n');
    let after: { at: Date; tradeNo: string } = { at: new Date(from.getTime() - 1), tradeNo: '' };
    for (;;) {
      const rows = await this.db.query<BillRow>(
        `select trade_no, out_trade_no, subject, total_fen, status, buyer_id, created_at, paid_at, refunded_fen
         from trades
         where app_id = $1 and created_at >= $2 and created_at < $3 and (created_at, trade_no) > ($4, $5)
         order by created_at, trade_no limit $6`,
        [appId, from, to, after.at, after.tradeNo, limits.billPageRowsMax],
      );
      if (rows.length > 0) yield csvRecords(rows.map(billFields), '\r\n');
      const last = rows.at(-1);
      if (!last || rows.length < limits.billPageRowsMax) return;
      after = { at: last.created_at, tradeNo: last.trade_no };
    }
  }

  #nowMs(): number {
    return Number(this.clock.nowNs() / 1_000_000n);
  }
}

function mac(key: Uint8Array, payload: string): Buffer {
  return createHmac('sha256', key).update(macLabel).update(payload).digest();
}

/** The instants a Beijing-time day or month spans; undefined for anything but a real date. */
function billRange(billDate: string): { from: Date; to: Date } | undefined {
  const day = dayPattern.exec(billDate);
  if (day) {
    const [y, m, d] = day.slice(1).map(Number) as [number, number, number];
    const start = Date.UTC(y, m - 1, d);
    if (new Date(start).toISOString().slice(0, 10) !== billDate || y < 2000) return undefined;
    return { from: new Date(start - beijingOffsetMs), to: new Date(start + 86_400_000 - beijingOffsetMs) };
  }
  const month = monthPattern.exec(billDate);
  if (month) {
    const [y, m] = month.slice(1).map(Number) as [number, number];
    if (m < 1 || m > 12 || y < 2000) return undefined;
    return {
      from: new Date(Date.UTC(y, m - 1, 1) - beijingOffsetMs),
      to: new Date(Date.UTC(y, m, 1) - beijingOffsetMs),
    };
  }
  return undefined;
}

function billFields(row: BillRow): string[] {
  return [
    row.trade_no,
    row.out_trade_no,
    row.subject,
    formatAmount(row.total_fen),
    publicStatus(row.status),
    row.buyer_id ?? '',
    beijingTime(row.created_at),
    row.paid_at ? beijingTime(row.paid_at) : '',
    formatAmount(row.refunded_fen),
  ];
}
