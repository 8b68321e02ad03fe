import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { AccountCode, cnyLedger } from '../core/ledger-codes.ts';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import { dateFromNs } from '../core/time.ts';
import { type Ledger, totalsByCode } from '../ledger/index.ts';
import { demoReserveAccountId } from './demo-deposit.ts';
import { type Channels, reserveAccountId } from './service.ts';
import type { ChannelTables } from './tables.ts';

/** The reserve position: customer money against the platform's money at its banks. */
export interface ReservePosition {
  at: string;
  currency: 'CNY';
  /** What the platform owes its customers: every user and merchant wallet's posted balance. */
  customerBalances: string;
  /** Withdrawals in flight: still in customers' balances, held, leaving with the bank's confirmation. */
  withdrawalsInFlight: string;
  /** Per bank: the reserve account's balance (debits − credits, posted) and what is held against it. */
  banks: { bank: string; reserve: string; pendingOut: string }[];
  /**
   * The demo reserve's balance: demo money (`paybao users create --balance`), held at no bank.
   * Counted in `reserves`, as it backs the demo balances it created; "0.00" on a platform with none.
   */
  demoReserve: string;
  /** The sum of the banks' reserves and the demo reserve. */
  reserves: string;
  /** reserves − customer balances: at or above zero when the customers are covered. */
  surplus: string;
  covered: boolean;
  /** Reserves / customer balances, in percent with two places ("100.00" when there are no balances). */
  coveragePercent: string;
}

/**
 * The reserve report (customer reserve funds): at any moment, from the ledger alone, whether
 * the customers' balances are covered by the reserve accounts at the banks. The regulator's
 * read-only API serves it; the server writes one to `reserve_reports` every day.
 */
export class ReserveReport {
  constructor(
    private readonly db: Db,
    private readonly ledger: Ledger,
    private readonly channels: Channels,
    private readonly clock: Clock,
  ) {}

  async position(): Promise<ReservePosition> {
    const [users, merchants] = await totalsByCode(this.db, cnyLedger, [
      AccountCode.userWallet,
      AccountCode.merchantWallet,
    ]);
    const wallets = [users, merchants].filter((t) => t !== undefined);
    const customer = wallets.reduce((sum, t) => sum + t.creditsPosted - t.debitsPosted, 0n);
    const held = wallets.reduce((sum, t) => sum + t.debitsPending, 0n);
    const banks = this.channels.banks().map((b) => b.code);
    // Looked up, never created: the regulator's view writes nothing (a bank never used has none).
    const accounts = banks.map(reserveAccountId);
    const found = await this.ledger.lookupAccounts([...accounts, demoReserveAccountId]);
    const perBank = banks.map((bank, i) => {
      const account = found.find((a) => a.id === accounts[i]);
      const reserve = account ? account.debitsPosted - account.creditsPosted : 0n;
      return { bank, reserveFen: reserve, pendingFen: account?.creditsPending ?? 0n };
    });
    const demo = found.find((a) => a.id === demoReserveAccountId);
    const demoFen = demo ? demo.debitsPosted - demo.creditsPosted : 0n;
    const reserves = perBank.reduce((sum, b) => sum + b.reserveFen, demoFen);
    const surplus = reserves - customer;
    const percent = customer <= 0n ? 10_000n : (reserves * 10_000n) / customer;
    return {
      at: dateFromNs(this.clock.nowNs()).toISOString(),
      currency: 'CNY',
      customerBalances: formatAmount(customer),
      withdrawalsInFlight: formatAmount(held),
      banks: perBank.map((b) => ({
        bank: b.bank,
        reserve: formatAmount(b.reserveFen),
        pendingOut: formatAmount(b.pendingFen),
      })),
      demoReserve: formatAmount(demoFen),
      reserves: formatAmount(reserves),
      surplus: formatAmount(surplus),
      covered: surplus >= 0n,
      coveragePercent: formatAmount(percent),
    };
  }

  /** The daily reports (`snapshot`), oldest first: the last `days` of them. */
  async history(days: number = limits.reserveHistoryDaysMax): Promise<ReservePosition[]> {
    const rows = await typed<ChannelTables>(this.db)
      .selectFrom('reserve_reports')
      .select(['report'])
      .orderBy('taken_at', 'desc')
      .limit(Math.min(days, limits.reserveHistoryDaysMax))
      .execute();
    return rows
      .reverse()
      .map((r) => (typeof r.report === 'string' ? JSON.parse(r.report) : r.report) as ReservePosition);
  }

  /** Writes today's position to `reserve_reports` (the daily report) and answers it. */
  async snapshot(): Promise<ReservePosition> {
    const position = await this.position();
    await typed<ChannelTables>(this.db)
      .insertInto('reserve_reports')
      .values({ taken_at: new Date(position.at), report: JSON.stringify(position) })
      .execute();
    return position;
  }
}
