import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config.ts';
import { benchLedger } from './bench/ledger.ts';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** `paybao bench ...`: benchmarks that print ratios against a baseline measured in the same run. */
export function benchCommand(): Command {
  const bench = new Command('bench').description('run a benchmark');
  bench
    .command('ledger')
    .description('ledger throughput: batched transfers against one transfer per transaction')
    .option('--json', 'print one JSON object instead of a report', false)
    .option('--accounts <n>', 'accounts to create', positiveInteger, 100_000)
    .option('--transfers <n>', 'transfers per workload', positiveInteger, 1_000_000)
    .action(async (options: { json: boolean; accounts: number; transfers: number }) => {
      const config = loadConfig();
      const result = await benchLedger({ ...options, databaseUrl: config.databaseUrl });
      if (options.json) {
        console.log(JSON.stringify(result));
        return;
      }
      for (const [key, value] of Object.entries(result)) console.log(`${key.padEnd(24)} ${value}`);
    });
  return bench;
}
