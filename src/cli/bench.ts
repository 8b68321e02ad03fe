import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../config.ts';
import { benchCredit } from './bench/credit.ts';
import { benchDouble11, type Double11Options, formatDrill } from './bench/double11.ts';
import { benchEscrow } from './bench/escrow.ts';
import { benchFund } from './bench/fund.ts';
import { benchGateway } from './bench/gateway.ts';
import { benchLedger } from './bench/ledger.ts';
import { benchPreauth } from './bench/preauth.ts';
import { benchRedPacket } from './bench/redpacket.ts';
import { benchReplication, type ReplicationBenchOptions } from './bench/replication.ts';
import { benchRisk } from './bench/risk.ts';

/** A commander parser for an option that takes a positive integer. */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected an integer of 0 or more');
  return n;
}

/** Prints a benchmark's answer: one JSON object, or a report of one line per figure. */
function report(result: object, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  for (const [key, value] of Object.entries(result)) console.log(`${key.padEnd(28)} ${value}`);
}

/** What every benchmark takes: how to print its answer, and the database it runs on. */
interface BenchOptions {
  json: boolean;
  databaseUrl?: string | undefined;
}

/** A benchmark's action: it runs on the database the configuration names, then its answer is printed. */
function runBench<O extends BenchOptions>(run: (options: O) => Promise<object>) {
  return async (options: Omit<O, 'databaseUrl'>) => {
    const result = await run({ ...options, databaseUrl: loadConfig().databaseUrl } as O);
    report(result, options.json);
  };
}

/** `paybao bench ...`: benchmarks that print ratios against a baseline measured in the same run. */
export function benchCommand(): Command {
  const bench = new Command('bench').description('run a benchmark');
  const benchmark = (name: string, description: string) =>
    bench.command(name).description(description).option('--json', 'print one JSON object instead of a report', false);
  benchmark('ledger', 'ledger throughput: batched transfers against one transfer per transaction')
    .option('--accounts <n>', 'accounts to create', positiveInteger, 100_000)
    .option('--transfers <n>', 'transfers per workload', positiveInteger, 1_000_000)
    .action(runBench(benchLedger));
  benchmark(
    'gateway',
    'open gateway throughput: SDK-style clients paying bar-code trades over HTTP with RSA2 signatures',
  )
    .option(
      '--trades <n>',
      "paid trades (create + pay) to time, after a warm-up; all must finish within the payment codes' 120 s TTL",
      positiveInteger,
      10_000,
    )
    .option('--buyers <n>', 'buyers paying, round robin', positiveInteger, 200)
    .option('--clients <n>', 'concurrent clients, one trade in flight each', positiveInteger, 64)
    .option('--in-process', 'serve from this process instead of a child `paybao start`', false)
    .addOption(
      new Option('--sign <when>', 'clients sign ahead of the timed run, live as they send, or both runs')
        .choices(['ahead', 'live', 'both'])
        .default('both'),
    )
    .option('--notify', "give the app a notify URL and wait until every paid trade's notification arrived", false)
    .option('--server-cpu-prof <dir>', 'write a CPU profile of the server process into this directory')
    .action(runBench(benchGateway));
  benchmark('escrow', 'the auto-confirm sweep releasing escrow trades, and payment latency while it runs')
    .option('--trades <n>', 'escrow trades due for auto-confirm', positiveInteger, 1_000_000)
    .option('--sellers <n>', 'sellers the trades belong to', positiveInteger, 20)
    .option('--payers <n>', 'concurrent payers during the baseline and the sweep', positiveInteger, 16)
    .option('--baseline-seconds <n>', 'seconds of payments alone before the sweep', positiveInteger, 10)
    .option('--no-verify', 'skip recomputing the books at the end')
    .option('--pause-ratio <r>', "the sweep's rest after each round, times the round's time (server default 1)", Number)
    .action(runBench(benchEscrow));
  benchmark('fund', "the fund's daily income distribution against one transaction per holder, and payments meanwhile")
    .option('--holders <n>', 'holders of the one product', positiveInteger, 1_000_000)
    .option('--baseline-seconds <n>', 'seconds of the one-transaction-per-holder baseline', positiveInteger, 10)
    .option('--pay-rate <n>', 'payments per second through the gateway meanwhile (0: none)', nonNegativeInteger, 100)
    .option('--pay-seconds <n>', 'seconds of payments alone before the distribution', positiveInteger, 10)
    .option('--page-lines <n>', 'holders per ledger submission (default: the server limit)', positiveInteger)
    .option('--pages-in-flight <n>', 'pages paid at once (default: the server limit)', positiveInteger)
    .addOption(
      new Option('--lane <lane>', "the ledger lane of the distribution's pages (interactive: as before the bulk lane)")
        .choices(['bulk', 'interactive'])
        .default('bulk'),
    )
    .option(
      '--bulk-events <n>',
      "events per batch of the ledger's bulk lane (default: the server limit)",
      positiveInteger,
    )
    .option('--pool <n>', 'connections of the PostgreSQL pool (default: the server limit)', positiveInteger)
    .option('--no-verify', 'skip recomputing the books at the end')
    .action(runBench(benchFund));
  benchmark('redpacket', 'one campaign red packet grabbed by many users at once, against a row lock per grab')
    .option('--shares <n>', 'shares of the campaign packet', positiveInteger, 100_000)
    .option('--users <n>', 'users who each grab once, at once', positiveInteger, 200_000)
    .option('--clients <n>', 'simulated clients grabbing at once', positiveInteger, 2_000)
    .option('--baseline-seconds <n>', 'seconds of the row-lock-per-grab baseline', positiveInteger, 10)
    .option('--no-verify', 'skip recomputing the books at the end')
    .action(runBench(benchRedPacket));
  benchmark('preauth', 'deposits through the gateway: freeze + settle pairs per second, against plain payments')
    .option(
      '--pairs <n>',
      "freeze + settle pairs timed (and plain payments for the baseline); within the codes' 120 s TTL",
      positiveInteger,
      2_000,
    )
    .option('--buyers <n>', 'customers freezing, round robin', positiveInteger, 100)
    .option('--clients <n>', 'concurrent clients, one pair in flight each', positiveInteger, 32)
    .option('--no-verify', 'skip recomputing the books at the end')
    .action(runBench(benchPreauth));
  benchmark(
    'risk',
    "the risk engine's decisions in process on a Double 11 rule set, against counters read per decision",
  )
    .option('--users <n>', 'users paying (their facts warmed first)', positiveInteger, 100_000)
    .option('--decisions <n>', 'decisions timed', positiveInteger, 1_000_000)
    .option('--baseline-seconds <n>', 'seconds of the counters-from-the-database baseline', positiveInteger, 10)
    .action(runBench(benchRisk));
  benchmark('credit', "the nightly credit scoring (users/s) against one query per user, and the online read's p99")
    .option('--users <n>', 'users scored by the nightly run', positiveInteger, 1_000_000)
    .option('--baseline-seconds <n>', 'seconds of the one-query-per-user baseline', positiveInteger, 10)
    .option('--read-rate <n>', 'online score reads a second', positiveInteger, 1_000)
    .option('--read-seconds <n>', 'seconds of online reads', positiveInteger, 10)
    .option('--chunks-in-flight <n>', 'chunks of the nightly run scored at once (PostgreSQL)', positiveInteger)
    .action(runBench(benchCredit));
  benchmark(
    'double11',
    'the Double-11 drill: find the payment capacity, then offer the mix at 1×, 2× and 3× of it and check the floors',
  )
    .option('--step-seconds <n>', 'seconds of each step of the capacity search', positiveInteger, 4)
    .option('--phase-seconds <n>', 'seconds of each of the 1×, 2× and 3× phases', positiveInteger, 12)
    .option('--start-rate <n>', 'payments a second of the first search step', positiveInteger, 100)
    .option('--search-steps <n>', 'steps of the capacity search at most', positiveInteger, 8)
    .option('--target-p99-ms <n>', "the payments' p99 the capacity must keep", positiveInteger, 200)
    .option('--buyers <n>', 'buyers paying, round robin', positiveInteger, 200)
    .option('--connections <n>', "the load generator's kept-alive connections at most", positiveInteger, 512)
    .option('--out <file>', 'where to write the HTML chart', 'double11.html')
    .option('--strict', 'exit with 1 when a floor fails', false)
    .option('--server-cpu-prof <dir>', 'write a CPU profile of the server process into this directory')
    .action(async (options: Omit<Double11Options, 'databaseUrl'>) => {
      const result = await benchDouble11({ ...options, databaseUrl: loadConfig().databaseUrl });
      if (options.json) process.stderr.write(`${formatDrill(result)}\n`);
      console.log(options.json ? JSON.stringify(result) : formatDrill(result));
      if (options.strict && !result.floors_hold) process.exitCode = 1;
    });
  benchmark(
    'replication',
    'what synchronous replication costs: paid trades/s and ledger transfers/s on a local pg_auto_failover cluster with the secondary synchronous, asynchronous, synchronous again',
  )
    .option('--trades <n>', 'paid trades per gateway run', positiveInteger, 3_000)
    .option('--accounts <n>', 'ledger accounts', positiveInteger, 10_000)
    .option('--transfers <n>', 'transfers per ledger workload', positiveInteger, 100_000)
    .option('--port-base <n>', "the monitor's port; the two nodes take the next two", positiveInteger, 55430)
    .action(async (options: ReplicationBenchOptions) => {
      const result = await benchReplication(options);
      if (options.json) console.log(JSON.stringify(result));
      else {
        for (const run of result.runs) console.log(JSON.stringify(run));
        const { runs: _runs, ...ratios } = result;
        report(ratios, false);
      }
    });
  return bench;
}
