import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { createLogger, exitOnSignals, startServer } from '../server/index.ts';

/** `paybao start`: the platform on the configured engine, until SIGTERM or SIGINT. */
export function startCommand(): Command {
  return new Command('start')
    .description('start the platform (PGlite under PAYBAO_DATA_DIR unless DATABASE_URL is set)')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger(config);
      const server = await startServer(config, logger);
      exitOnSignals(server, logger);
      // A plain line, not a log record: it is what a newcomer reads and what scripts wait for.
      console.log(`Paybao is running at ${server.url}`);
    });
}
