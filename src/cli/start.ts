import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Logger } from 'pino';
import { type Config, loadConfig } from '../config.ts';
import { restoredFrom } from '../core/db/index.ts';
import { createLogger, exitOnSignals, type RunningServer, startServer } from '../server/index.ts';
import { createDemo, demoBanner, demoWanted } from './demo.ts';
import { refuseUnsoundRestore } from './ledger.ts';

const bin = new URL('../../bin/paybao.js', import.meta.url).pathname;

/** `paybao start`: the platform on the configured engine, until SIGTERM or SIGINT. */
export function startCommand(): Command {
  return new Command('start')
    .description(
      'start the platform (PGlite under PAYBAO_DATA_DIR unless DATABASE_URL is set) and, unless PAYBAO_BANK_SIM=off, the bank simulator beside it; on an empty data directory, unless PAYBAO_DEMO=off, a demo',
    )
    .option(
      '--read-only',
      'serve the books to look at them and change nothing: no migration, recovery, job or notification; every write refused (a restored database whose books fail)',
      false,
    )
    .action(async (options: { readOnly: boolean }) => {
      const config = loadConfig();
      const logger = createLogger(config);
      // Asked before the platform creates its files in the data directory.
      const demo = !options.readOnly && demoWanted(config);
      const server = await startServer(config, logger, {
        readOnly: options.readOnly,
        beforeServing: async (platform) => {
          // A restored database whose books fail verification is not served (docs/drills.md),
          // but for a look at it read-only.
          if (!options.readOnly) return refuseUnsoundRestore(platform.db);
          const point = await restoredFrom(platform.db);
          if (point)
            logger.warn(
              { restored_from: point },
              'a restored database, read-only: `paybao ledger verify` says what its books hold',
            );
        },
      });
      exitOnSignals(server, logger);
      if (config.bankSim && !options.readOnly) startBankSimChild(config, logger);
      // A plain line, not a log record: it is what a newcomer reads and what scripts wait for.
      console.log(`Paybao is running at ${server.url}`);
      if (demo) await showDemo(server, config, logger);
    });
}

/** Creates the demo of a fresh install and says where to look; a failure is logged, the platform serves on. */
async function showDemo(server: RunningServer, config: Config, logger: Logger): Promise<void> {
  try {
    const demo = await createDemo(server.platform, {
      url: server.url,
      bankUrl: config.bankUrl,
      dataDir: config.dataDir,
      logger,
    });
    console.log(demoBanner(server.url, demo));
  } catch (error) {
    logger.error(
      { err: error },
      'the demo could not be created; the platform serves on (remove the data directory to try again)',
    );
  }
}

/**
 * The bank simulator as a child process (`paybao bank-sim`) on PAYBAO_BANK_SIM_PORT (9001), with
 * its database under the platform's data directory. It is an outside system: if it cannot start
 * (the port is taken, say) the platform runs on and says so. It ends with the platform: killed
 * at exit, and watching the IPC channel in case the platform dies without exiting cleanly.
 */
function startBankSimChild(config: Config, logger: Logger): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      bin,
      'bank-sim',
      '--port',
      String(config.bankSimPort),
      '--host',
      config.host,
      '--data-dir',
      join(config.dataDir, 'banksim'),
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM')
      logger.warn({ code, signal }, 'the bank simulator stopped; the platform runs on');
  });
  process.once('exit', () => child.kill('SIGTERM'));
  return child;
}
