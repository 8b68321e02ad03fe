import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import type { Ledger } from '../ledger/index.ts';
import { FundAutoTransfer } from './auto-transfer.ts';
import { beijingDayAndMinute } from './calendar.ts';
import { FundCatalog } from './catalog.ts';
import { FundIncome } from './income.ts';
import { FundOrders, type FundParties } from './orders.ts';
import { type FundReport, fundReport } from './report.ts';
import { type StressReport, setRefillRate, stressPools } from './stress.ts';

/** Yu'e Bao as the platform wires it: the catalog, the orders, the income, the report. */
export class Fund {
  readonly catalog: FundCatalog;
  readonly orders: FundOrders;
  readonly income: FundIncome;
  readonly autoTransfer: FundAutoTransfer;

  constructor(
    private readonly db: Db,
    ledger: Ledger,
    parties: FundParties,
    private readonly clock: Clock,
    options: { distributionPageLines?: number; distributionPagesInFlight?: number } = {},
  ) {
    this.catalog = new FundCatalog(db, ledger, clock);
    this.orders = new FundOrders(db, ledger, this.catalog, parties, clock);
    this.income = new FundIncome(
      db,
      ledger,
      this.catalog,
      this.orders,
      clock,
      options.distributionPageLines,
      options.distributionPagesInFlight,
    );
    this.autoTransfer = new FundAutoTransfer(db, ledger, this.catalog, this.orders, parties, clock);
  }

  /**
   * The server's fund job (on the job runner): finishes orders a crash left submitted, distributes
   * every declared day before today, confirms the orders due today, then (in the evening) makes
   * the users' auto-transfers. All of it is idempotent,
   * so every process may run it.
   */
  async runDue(): Promise<void> {
    await this.orders.finishSubmitted();
    await this.income.distributeDue();
    await this.orders.confirmDue();
    await this.autoTransfer.runDue();
  }

  report(): Promise<FundReport> {
    return fundReport(this.db, beijingDayAndMinute(this.clock.nowNs()).day);
  }

  /** What each pool would do if `share` of holders ("0.3") asked fast redemption now; writes nothing. */
  stress(share: string): Promise<StressReport> {
    return stressPools(this.db, beijingDayAndMinute(this.clock.nowNs()).day, share);
  }

  /** Sets a fund company's refill rate of its pool, yuan per hour ("1000000.00"). */
  setRefillRate(companyCode: string, perHour: string): Promise<void> {
    return setRefillRate(this.db, companyCode, perHour);
  }
}
