import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import pino from 'pino';
import { type BankSimConfig, defaultConfig, parseConfig, parseFaults, startBankSim } from '../banksim/index.ts';
import { loadConfig } from '../config.ts';

/** Fault flags: each maps onto a `FaultConfig` field of the same meaning. */
const faultFlags = [
  ['--seed <n>', 'seed', 'seed of every fault decision'],
  ['--latency-min-ms <ms>', 'latencyMinMs', 'least added latency'],
  ['--latency-max-ms <ms>', 'latencyMaxMs', 'most added latency'],
  ['--error-rate <r>', 'errorRate', 'share of writes answered 503 before anything moves'],
  ['--timeout-before-rate <r>', 'timeoutBeforeRate', 'share of writes never answered, nothing moved'],
  ['--timeout-after-rate <r>', 'timeoutAfterRate', 'share of writes done, then never answered'],
  ['--hang-ms <ms>', 'hangMs', 'how long an unanswered request hangs before its connection drops'],
  ['--duplicate-callback-rate <r>', 'duplicateCallbackRate', 'share of callbacks delivered twice'],
  ['--statement-drop-rate <r>', 'statementDropRate', 'share of statement lines left out'],
  ['--statement-amount-rate <r>', 'statementAmountRate', 'share of statement lines with the amount off by a fen'],
  ['--statement-status-rate <r>', 'statementStatusRate', 'share of statement lines with the status flipped'],
] as const;

/** `paybao bank-sim`: the bank simulator, its own process and database, until SIGTERM or SIGINT. */
export function bankSimCommand(): Command {
  const command = new Command('bank-sim')
    .description('run the bank simulator (ICBC, CMB, ABC by default) as its own HTTP service; see docs/bank-sim.md')
    .option('--port <port>', 'port to listen on (0: any free port)', '9001')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--data-dir <dir>', "the simulator's own PGlite files", './data/banksim')
    .option('--memory', 'keep the database in memory (gone at exit)')
    .option('--config <file>', 'JSON file with {banks, faults}; flags below override its faults')
    .addOption(new Option('--timeout-mode <mode>', 'how an unanswered request ends').choices(['hang', 'drop']));
  for (const [flag, , help] of faultFlags) command.option(flag, help);
  return command.action(async (opts: Record<string, string | boolean | undefined>) => {
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port must be a port number, not "${opts.port}"`);
    const config = readConfig(opts);
    const logger = pino({ level: loadConfig().logLevel });
    const sim = await startBankSim({
      port,
      host: String(opts.host),
      dataDir: opts.memory ? undefined : String(opts.dataDir),
      config,
      logger,
    });
    let closing = false;
    const stop = (signal: NodeJS.Signals) => {
      if (closing) return;
      closing = true;
      logger.info({ signal }, 'bank simulator shutting down');
      sim.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'bank simulator failed to close');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    // Started by `paybao start` (an IPC channel): end when the platform does, however it ends.
    if (process.send) process.once('disconnect', () => stop('SIGTERM'));
    // A plain line, as `paybao start` prints: what people read and what scripts wait for.
    console.log(`Bank simulator is running at ${sim.url}`);
  });
}

function readConfig(opts: Record<string, string | boolean | undefined>): BankSimConfig {
  const config = opts.config ? parseConfig(JSON.parse(readFileSync(String(opts.config), 'utf8'))) : defaultConfig();
  const overrides: Record<string, unknown> = {};
  for (const [, key] of faultFlags) {
    const value = opts[key];
    if (value !== undefined) overrides[key] = Number(value);
  }
  if (opts.timeoutMode !== undefined) overrides.timeoutMode = opts.timeoutMode;
  config.faults = parseFaults(overrides, config.faults);
  return config;
}
