import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { positiveInteger } from './bench.ts';
import { crashDrill } from './drill/crash.ts';
import { type FailoverDrillOptions, failoverDrill } from './drill/failover.ts';

/** `paybao drill ...`: disaster drills an operator runs; each prints what it checked and fails when a check fails. */
export function drillCommand(): Command {
  const drill = new Command('drill').description('run a disaster drill against a scratch database');
  drill
    .command('crash')
    .description(
      "SIGKILL Paybao's own process under payment load, again and again, then check that no acknowledged payment was lost",
    )
    .option('--rounds <n>', 'kills', positiveInteger, 3)
    .option('--clients <n>', 'merchants paying at once, one trade in flight each', positiveInteger, 16)
    .option('--buyers <n>', 'buyers paying, round robin', positiveInteger, 20)
    .option(
      '--load-seconds <n>',
      'the kill comes at a random moment within this many seconds of load',
      positiveInteger,
      3,
    )
    .option('--json', 'print one JSON object instead of a report', false)
    .action(
      async (options: { rounds: number; clients: number; buyers: number; loadSeconds: number; json: boolean }) => {
        const result = await crashDrill({ ...options, databaseUrl: loadConfig().databaseUrl });
        report(result, options.json);
        if (!result.ok) process.exitCode = 1;
      },
    );
  drill
    .command('failover')
    .description(
      'set up a local PostgreSQL cluster (pg_auto_failover: monitor, primary, synchronous secondary), pay through it, SIGKILL the primary, and check that no acknowledged payment or transfer was lost',
    )
    .option(
      '--rounds <n>',
      'kills of the primary (the old one rejoins as the secondary between rounds)',
      positiveInteger,
      1,
    )
    .option('--clients <n>', 'merchants paying at once, one trade in flight each', positiveInteger, 8)
    .option('--buyers <n>', 'buyers paying, round robin', positiveInteger, 20)
    .option('--ledger-clients <n>', 'ledger transfers in flight at once from the drill itself', positiveInteger, 4)
    .option(
      '--load-seconds <n>',
      'the kill comes at a random moment within this many seconds of load',
      positiveInteger,
      5,
    )
    .option('--after-seconds <n>', 'seconds of load once payments succeed again', positiveInteger, 3)
    .option('--port-base <n>', "the monitor's port; the two nodes take the next two", positiveInteger, 55430)
    .option('--json', 'print one JSON object instead of a report', false)
    .action(async (options: FailoverDrillOptions & { json: boolean }) => {
      const result = await failoverDrill(options, (line) => process.stderr.write(`${line}\n`));
      report(result, options.json);
      if (!result.ok) process.exitCode = 1;
    });
  return drill;
}

/** A drill's result: one JSON object, or a line per round and one per total. */
function report(result: { rounds: readonly object[] }, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  for (const round of result.rounds) console.log(JSON.stringify(round));
  const { rounds: _rounds, ...totals } = result;
  for (const [key, value] of Object.entries(totals))
    console.log(`${key.padEnd(24)} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
}
