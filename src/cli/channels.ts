import { writeFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import { formatAmount, perHundredThousand } from '../core/money.ts';
import { beijingTime, isCalendarDate } from '../core/time.ts';
import { withPlatform } from './open-platform.ts';

/** Commander's parser of a `--date`: a calendar day as YYYY-MM-DD (Beijing). */
export function day(value: string): string {
  if (!isCalendarDate(value)) throw new InvalidArgumentError('expected a calendar day as YYYY-MM-DD (Beijing)');
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
    .option('--json', 'the summary as JSON on stdout, and no progress bar (the summary is JSON either way)')
    .action(async (options: { bank: string; date?: string; out?: string; json?: boolean }) => {
      const date = options.date ?? yesterday();
      await withPlatform(
        async (platform) => {
          const bar = new SingleBar({
            format: `reconcile ${options.bank} ${date} [{bar}] {percentage}% {value}/{total}`,
            stream: process.stderr,
            noTTYOutput: false,
          });
          let started = false;
          const summary = await platform.reconciler
            .run(options.bank, date, (done, total) => {
              if (options.json) return;
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
          console.log(JSON.stringify({ ...summary, report: out }, null, options.json ? undefined : 2));
          if (summary.queued > 0) process.exitCode = 1;
        },
        { action: 'reconciliation.run', target: `${options.bank}/${date}` },
      );
    });
}

/** One part of the loss rate, with the field names of `GET /ops/v1/loss-rate`. */
function lossPart(lossFen: bigint, lossCount: number, volumeFen: bigint) {
  return {
    losses: formatAmount(lossFen),
    volume: formatAmount(volumeFen),
    lossCount,
    perHundredThousand: perHundredThousand(lossFen, volumeFen),
  };
}

/** `paybao report loss-rate | reserves`: the channels' reports. */
export function reportCommand(): Command {
  const report = new Command('report').description('reports: loss rate, reserve position');
  report
    .command('loss-rate')
    .description(
      'losses / volume: bank channels (written-off reconciliation items), escrow (compensation not ' +
        'recovered) and fraud (victims made whole, over every paid trade); Alipay promised the banks under 1 in 100,000',
    )
    .option('--json', 'one JSON object: per part its losses, volume, lossCount and perHundredThousand')
    .action(async (options: { json?: boolean }) => {
      const [channels, escrow, fraud, tradeVolume] = await withPlatform((p) =>
        Promise.all([p.reconciler.lossRate(), p.afterSale.losses(), p.risk.losses(), p.trades.paidVolumeFen()]),
      );
      // The total is over money in and out at the banks and every paid trade (escrow trades are
      // among those, so their volume is not counted twice).
      const parts = {
        channels: lossPart(channels.lossFen, channels.lossCount, channels.volumeFen),
        escrow: lossPart(escrow.lossFen, escrow.lossCount, escrow.volumeFen),
        fraud: lossPart(fraud.lossFen, fraud.lossCount, tradeVolume),
        total: lossPart(
          channels.lossFen + escrow.lossFen + fraud.lossFen,
          channels.lossCount + escrow.lossCount + fraud.lossCount,
          channels.volumeFen + tradeVolume,
        ),
      };
      if (options.json) {
        console.log(JSON.stringify({ currency: 'CNY', ...parts }));
        return;
      }
      for (const [name, part] of Object.entries(parts)) {
        console.log(
          `${name.padEnd(9)} losses ${part.losses} CNY in ${part.lossCount} cases / volume ${part.volume} CNY = ` +
            `${part.perHundredThousand} per 100,000`,
        );
      }
    });
  report
    .command('reserves')
    .description('customer balances against the reserves at the banks, now (and kept as a daily report with --save)')
    .option('--save', 'keep it in reserve_reports')
    .option('--json', 'compact JSON on one line (indented JSON otherwise)')
    .action(async (options: { save?: boolean; json?: boolean }) => {
      const position = await withPlatform((p) => (options.save ? p.reserves.snapshot() : p.reserves.position()));
      console.log(JSON.stringify(position, null, options.json ? undefined : 2));
      if (!position.covered) process.exitCode = 1;
    });
  return report;
}
