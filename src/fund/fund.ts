import type { Lane } from '../core/batcher.ts';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import { formatAmount } from '../core/money.ts';
import type { Ledger } from '../ledger/index.ts';
import { FundAutoTransfer } from './auto-transfer.ts';
import { addDays, beijingDayAndMinute } from './calendar.ts';
import { FundCatalog } from './catalog.ts';
import { FundIncome } from './income.ts';
import { FundOrders, type FundParties, type Holding, holderAccount } from './orders.ts';
import { FundPayments } from './payments.ts';
import { type FundReport, fundReport } from './report.ts';
import { type StressReport, setRefillRate, stressPools } from './stress.ts';

/** One product in a user's Yu'e Bao, with its income and yield (amounts as yuan). */
export interface FundOverview extends Holding {
  productName: string;
  /** The Beijing day "yesterday" names. */
  yesterday: string;
  yesterdayIncome: string;
  totalIncome: string;
  /** The product's 7-day annualised yield as of yesterday, in percent; undefined until seven days are declared. */
  sevenDayYield: number | undefined;
}

/** Yu'e Bao as the platform wires it: the catalog, the orders, payments from it, the income, the report. */
export class Fund {
  readonly catalog: FundCatalog;
  readonly orders: FundOrders;
  readonly income: FundIncome;
  readonly autoTransfer: FundAutoTransfer;
  readonly payments: FundPayments;

  constructor(
    private readonly db: Db,
    ledger: Ledger,
    parties: FundParties,
    private readonly clock: Clock,
    options: {
      distributionPageLines?: number | undefined;
      distributionPagesInFlight?: number | undefined;
      /** The ledger lane of the distribution's pages (`bulk`; the bench measures `interactive` beside it). */
      distributionLane?: Lane | undefined;
    } = {},
  ) {
    this.catalog = new FundCatalog(db, ledger, clock);
    this.orders = new FundOrders(db, ledger, this.catalog, parties, clock);
    this.payments = new FundPayments(db, ledger, this.catalog, this.orders, clock);
    this.income = new FundIncome(
      db,
      ledger,
      this.catalog,
      this.orders,
      clock,
      options.distributionPageLines,
      options.distributionPagesInFlight,
      options.distributionLane,
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
    await this.payments.finishAbandoned();
    await this.income.distributeDue();
    await this.orders.confirmDue();
    await this.autoTransfer.runDue();
  }

  /**
   * A user's Yu'e Bao as the wallet shows it: per product held, the holding, yesterday's income
   * (Beijing; zero when yesterday brought none), the total income, and the product's 7-day yield
   * as of yesterday.
   */
  async overview(userId: string): Promise<FundOverview[]> {
    const yesterday = addDays(beijingDayAndMinute(this.clock.nowNs()).day, -1);
    const holdings = await this.orders.holdings(userId);
    return Promise.all(
      holdings.map(async (h) => {
        const product = await this.catalog.product(h.productCode);
        const income = await this.income.incomeOf(h.productCode, uuidFromU128(holderAccount(h.productCode, userId)));
        return {
          ...h,
          productName: product.row.name,
          yesterday,
          yesterdayIncome: formatAmount(income.lastDay === yesterday ? income.lastFen : 0n),
          totalIncome: formatAmount(income.totalFen),
          sevenDayYield: await this.income.sevenDayYield(h.productCode, yesterday),
        };
      }),
    );
  }

  /** The 7-day yield of a product for the last `days` days (ending yesterday, Beijing), oldest first. */
  yieldHistory(productCode: string, days: number = limits.fundYieldHistoryDays) {
    const yesterday = addDays(beijingDayAndMinute(this.clock.nowNs()).day, -1);
    return this.catalog.product(productCode).then(() => this.income.yieldSeries(productCode, yesterday, days));
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
