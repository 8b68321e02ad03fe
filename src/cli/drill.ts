import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { positiveInteger } from './bench.ts';
import { crashDrill } from './drill/crash.ts';

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
        if (options.json) console.log(JSON.stringify(result));
        else {
          for (const round of result.rounds) console.log(JSON.stringify(round));
          const { rounds: _rounds, ...totals } = result;
          for (const [key, value] of Object.entries(totals))
            console.log(`${key.padEnd(20)} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
        }
        if (!result.ok) process.exitCode = 1;
      },
    );
  return drill;
}
