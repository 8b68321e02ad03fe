import { writeFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { formatAmount, perHundredThousand } from '../core/money.ts';
import { beijingTime } from '../core/time.ts';
import { withPlatform } from './open-platform.ts';

function day(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new InvalidArgumentError('expected a date as YYYY-MM-DD (Beijing)');
  return value;
}

/** Yesterday in Beijing: the day a reconciliation is usually for. */
function yesterday(): string {
  return beijingTime(new Date(Date.now() - 86_400_000)).slice(0, 10);
}

/**
 * `paybao reconcile --bank B --date D`: the bank's statement of day D against the channel orders,
 * with a progress bar on stderr; prints the summary as JSON and writes the lines queued for an
 * operator as CSV (`--out`, default `recon-B-D.csv`). Exits 1 when lines were queued.
 */
export function reconcileCommand(): Command {
  return new Command('reconcile')
    .description("reconcile a bank's daily statement with the channel orders; queue what does not match")
    .requiredOption('--bank <code>', 'the bank (ICBC, CMB, ABC …)')
    .option('--date <YYYY-MM-DD>', 'the Beijing day (yesterday by default)', day)
    .option('--out <file>', 'where the CSV of queued lines goes')
    .action(async (options: { bank: string; date?: string; out?: string }) => {
      const date = options.date ?? yesterday();
      await withPlatform(async (platform) => {
        const bar = new SingleBar({
          format: `reconcile ${options.bank} ${date} [{bar}] {percentage}% {value}/{total}`,
          stream: process.stderr,
          noTTYOutput: false,
        });
        let started = false;
        const summary = await platform.reconciler
          .run(options.bank, date, (done, total) => {
            if (!started) {
              bar.start(total, 0);
              started = true;
            }
            bar.update(done);
          })
          .finally(() => {
            if (started) bar.stop();
          });
        const items = await platform.reconciler.items({ bank: options.bank, date, state: 'OPEN' });
        const out = options.out ?? `recon-${options.bank}-${date}.csv`;
        writeFileSync(out, platform.reconciler.csv(items));
        console.log(JSON.stringify({ ...summary, report: out }, null, 2));
        if (summary.queued > 0) process.exitCode = 1;
      });
    });
}

/** `paybao report loss-rate | reserves`: the channels' reports. */
export function reportCommand(): Command {
  const report = new Command('report').description('reports: loss rate, reserve position');
  report
    .command('loss-rate')
    .description(
      'losses / volume: bank channels (written-off reconciliation items) and escrow (compensation not ' +
        'recovered); Alipay promised the banks under 1 in 100,000',
    )
    .action(async () => {
      const [channels, escrow] = await withPlatform((p) =>
        Promise.all([p.reconciler.lossRate(), p.afterSale.losses()]),
      );
      const line = (name: string, loss: bigint, count: number, volume: bigint) =>
        `${name.padEnd(9)} losses ${formatAmount(loss)} CNY in ${count} cases / volume ${formatAmount(volume)} CNY = ` +
        `${perHundredThousand(loss, volume)} per 100,000`;
      console.log(line('channels', channels.lossFen, channels.lossCount, channels.volumeFen));
      console.log(line('escrow', escrow.lossFen, escrow.lossCount, escrow.volumeFen));
      const loss = channels.lossFen + escrow.lossFen;
      const volume = channels.volumeFen + escrow.volumeFen;
      console.log(line('total', loss, channels.lossCount + escrow.lossCount, volume));
    });
  report
    .command('reserves')
    .description('customer balances against the reserves at the banks, now (and kept as a daily report with --save)')
    .option('--save', 'keep it in reserve_reports')
    .action(async (options: { save?: boolean }) => {
      const position = await withPlatform((p) => (options.save ? p.reserves.snapshot() : p.reserves.position()));
      console.log(JSON.stringify(position, null, 2));
      if (!position.covered) process.exitCode = 1;
    });
  return report;
}
