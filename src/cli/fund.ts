import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { formatAmount } from '../core/money.ts';
import { day } from './channels.ts';
import { withPlatform } from './open-platform.ts';

/**
 * `paybao fund …`: the fund company's and the operator's side of Yu'e Bao — companies, products,
 * holidays, the pool, the daily income figure and its distribution.
 */
export function fundCommand(): Command {
  const fund = new Command('fund').description("Yu'e Bao: fund companies, products, daily income, distribution");
  fund
    .command('company')
    .description('create a fund company (its own account and liquidity pool)')
    .requiredOption('--code <CODE>', 'its code (2-16 capital letters, digits, _)')
    .requiredOption('--name <name>', 'its name')
    .action(async (o: { code: string; name: string }) => {
      await withPlatform((p) => p.fund.catalog.createCompany(o), {
        action: 'fund.company.create',
        target: o.code,
        detail: o,
      });
      console.log(JSON.stringify({ company: o.code }));
    });
  fund
    .command('product')
    .description('create a fund product of a company, with a share ledger of its own')
    .requiredOption('--code <CODE>', 'the product code')
    .requiredOption('--company <CODE>', 'the fund company')
    .requiredOption('--name <name>', 'its name')
    .action(async (o: { code: string; company: string; name: string }) => {
      const row = await withPlatform(
        (p) => p.fund.catalog.createProduct({ code: o.code, companyCode: o.company, name: o.name }),
        { action: 'fund.product.create', target: o.code, detail: o },
      );
      console.log(JSON.stringify({ product: row.product_code, shareLedger: row.share_ledger }));
    });
  fund
    .command('holiday')
    .description('add a day without trading to the calendar (weekends are never trading days)')
    .requiredOption('--date <YYYY-MM-DD>', 'the Beijing day', day)
    .option('--name <name>', 'what it is', 'holiday')
    .action(async (o: { date: string; name: string }) => {
      await withPlatform((p) => p.fund.orders.calendar.addHoliday(o.date, o.name), {
        action: 'fund.holiday.add',
        target: o.date,
        detail: o,
      });
    });
  fund
    .command('refill')
    .description("move money from the fund company's account into its liquidity pool (idempotent by --key)")
    .requiredOption('--company <CODE>', 'the fund company')
    .requiredOption('--amount <yuan>', 'the amount, "50000.00"')
    .requiredOption('--key <key>', 'an idempotency key')
    .action(async (o: { company: string; amount: string; key: string }) => {
      await withPlatform((p) => p.fund.catalog.refillPool(o.company, o.amount, o.key), {
        action: 'fund.pool.refill',
        target: o.company,
        detail: o,
      });
    });
  fund
    .command('refill-rate')
    .description('set how fast the fund company refills its liquidity pool (what `fund stress` assumes)')
    .requiredOption('--company <CODE>', 'the fund company')
    .requiredOption('--per-hour <yuan>', 'yuan per hour, "1000000.00"')
    .action(async (o: { company: string; perHour: string }) => {
      await withPlatform((p) => p.fund.setRefillRate(o.company, o.perHour), {
        action: 'fund.pool.refill_rate',
        target: o.company,
        detail: o,
      });
    });
  fund
    .command('stress')
    .description(
      'simulate a share of holders asking fast redemption at once: what each pool covers, how many are refused, how long it takes to refill (moves no money)',
    )
    .requiredOption('--share <fraction>', 'the share of holders asking, the largest first ("0.3")')
    .option('--json', 'compact JSON on one line (indented JSON otherwise)')
    .action(async (o: { share: string; json?: boolean }) => {
      const out = await withPlatform((p) => p.fund.stress(o.share));
      console.log(JSON.stringify(out, null, o.json ? undefined : 2));
    });
  fund
    .command('declare')
    .description("the fund company's income per 10,000 shares for one natural day (before its distribution)")
    .requiredOption('--product <CODE>', 'the product')
    .requiredOption('--date <YYYY-MM-DD>', 'the Beijing day', day)
    .requiredOption('--per10k <yuan>', 'income per 10,000 shares, up to four places ("0.6543")')
    .action(async (o: { product: string; date: string; per10k: string }) => {
      await withPlatform((p) => p.fund.income.declare(o.product, o.date, o.per10k), {
        action: 'fund.declare',
        target: `${o.product}/${o.date}`,
        detail: o,
      });
      console.log(JSON.stringify({ product: o.product, date: o.date, per10k: o.per10k }));
    });
  fund
    .command('distribute')
    .description("distribute a day's declared income to every holder (resumable; progress bar on stderr)")
    .requiredOption('--date <YYYY-MM-DD>', 'the Beijing day', day)
    .option('--json', 'no progress bar')
    .action(async (o: { date: string; json?: boolean }) => {
      const bar = new SingleBar({
        format: `distribute ${o.date} [{bar}] {percentage}% {value}/{total} holders`,
        stream: process.stderr,
      });
      let started = false;
      const summaries = await withPlatform(
        (p) =>
          p.fund.income
            .distribute(o.date, (done, total) => {
              if (o.json) return;
              if (!started) {
                bar.start(total, done);
                started = true;
              }
              bar.update(done);
            })
            .finally(() => {
              if (started) bar.stop();
            }),
        { action: 'fund.distribute', target: o.date },
      );
      console.log(
        JSON.stringify(
          summaries.map((s) => ({
            product: s.productCode,
            date: s.day,
            holders: s.holders,
            total: formatAmount(s.totalFen),
          })),
        ),
      );
    });
  return fund;
}

/** `paybao report fund`: adds the fund's report to `paybao report`; exit 1 when a pool falls short. */
export function addFundReport(report: Command): Command {
  report
    .command('fund')
    .description(
      'holdings, pools, redemptions by day, the largest holders, pool coverage (exit 1 when a pool falls short)',
    )
    .option('--json', 'compact JSON on one line (indented JSON otherwise)')
    .action(async (o: { json?: boolean }) => {
      const out = await withPlatform((p) => p.fund.report());
      console.log(JSON.stringify(out, null, o.json ? undefined : 2));
      if (!out.covered) process.exitCode = 1;
    });
  return report;
}
