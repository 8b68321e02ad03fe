import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import type { Ledger } from '../ledger/index.ts';
import { beijingDayAndMinute } from './calendar.ts';
import { FundCatalog } from './catalog.ts';
import { FundIncome } from './income.ts';
import { FundOrders, type FundParties } from './orders.ts';
import { FundPayments } from './payments.ts';
import { type FundReport, fundReport } from './report.ts';

/** Yu'e Bao as the platform wires it: the catalog, the orders, payments from it, the income, the report. */
export class Fund {
  readonly catalog: FundCatalog;
  readonly orders: FundOrders;
  readonly income: FundIncome;
  readonly payments: FundPayments;

  constructor(
    private readonly db: Db,
    ledger: Ledger,
    parties: FundParties,
    private readonly clock: Clock,
    options: { distributionPageLines?: number } = {},
  ) {
    this.catalog = new FundCatalog(db, ledger, clock);
    this.orders = new FundOrders(db, ledger, this.catalog, parties, clock);
    this.payments = new FundPayments(db, ledger, this.catalog, this.orders, clock);
    this.income = new FundIncome(db, ledger, this.catalog, this.orders, clock, options.distributionPageLines);
  }

  /**
   * The server's fund job (on the job runner): finishes orders a crash left submitted, distributes
   * every declared day before today, then confirms the orders due today. All of it is idempotent,
   * so every process may run it.
   */
  async runDue(): Promise<void> {
    await this.orders.finishSubmitted();
    await this.payments.finishAbandoned();
    await this.income.distributeDue();
    await this.orders.confirmDue();
  }

  report(): Promise<FundReport> {
    return fundReport(this.db, beijingDayAndMinute(this.clock.nowNs()).day);
  }
}
