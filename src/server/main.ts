import pino, { type Logger } from 'pino';
import { DailyChannelWork } from '../channels/index.ts';
import { type Config, platformStorageOf } from '../config.ts';
import { limits } from '../core/limits.ts';
import { NotificationDispatcher } from '../notifications/index.ts';
import { openPlatform } from '../platform.ts';
import { createMetrics } from './metrics.ts';
import { buildPlatformApp, notificationChannel } from './platform-app.ts';

export interface RunningServer {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Stops accepting connections, answers what is in flight, then drains the ledger and closes storage. */
  close(): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel });
}

/** Opens the platform on the configured engine, starts its background work, and listens. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const metrics = createMetrics();
  if (!config.keyPassphrase)
    logger.warn("PAYBAO_KEY_PASSPHRASE is not set: the platform's private keys are stored unencrypted in the database");
  // PAYBAO_PUBLIC_URL (or http://HOST:PORT), as every other process has it; only an ephemeral
  // port (PORT=0), which no other process can know, leaves it to the address the server gets.
  let url = '';
  const publicUrl = config.publicUrl === undefined ? () => url : () => config.publicUrl as string;
  const platform = await openPlatform({
    ...platformStorageOf(config),
    publicUrl,
    // The server owns a PGlite data directory alone and serves it to the CLI (src/core/db/pglite-wire.ts).
    pgliteSharing: 'serve',
    onBatch: metrics.observeBatch,
  });
  // Before serving: a payment whose money moved before a crash answers TRADE_SUCCESS from the
  // first query on, not once a sweep comes by.
  const recovered = await platform.trades.recoverInterruptedPayments().catch(async (error: unknown) => {
    await platform.close();
    throw error;
  });
  if (recovered > 0) logger.info({ trades: recovered }, 'recorded payments a crash had interrupted');
  const app = await buildPlatformApp({
    platform,
    logger,
    metrics,
    publicUrl,
    // The pages trust only this origin when PAYBAO_PUBLIC_URL is set (web-security.ts).
    configuredPublicUrl: config.configuredPublicUrl,
  });
  try {
    url = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await platform.close();
    throw error;
  }
  platform.ledger.startExpirySweep();
  const key = (await platform.members.platformKeys()).active;
  const dispatcher = new NotificationDispatcher(
    platform.db,
    platform.clock,
    notificationChannel(platform, key.privateKey),
  );
  dispatcher.start();
  const tradeSweep = setInterval(() => {
    platform.trades.sweep().catch((error: unknown) => logger.error({ err: error }, 'trade sweep failed'));
    platform.payouts.sweep().catch((error: unknown) => logger.error({ err: error }, 'payout sweep failed'));
  }, limits.tradeSweepIntervalMs);
  const escrowSweep = repeat(limits.tradeSweepIntervalMs, logger, 'escrow sweep', async () => {
    await platform.escrow.sweepAll();
    await platform.afterSale.sweep();
    await platform.royalties.sweep();
  });
  const settlementJob = repeat(config.settlementIntervalMs, logger, 'settlement', async () => {
    const made = await platform.settlements.run();
    if (made.length > 0) logger.info({ settlements: made.length }, 'settled sellers');
  });
  // Channels: open orders are asked about on their backoff; the daily reconciliation and reserve
  // report run once their time has come (see DailyChannelWork).
  let sweeping = false;
  const channelSweep = setInterval(() => {
    // A sweep waiting on slow banks may outlast the interval: never two at once.
    if (sweeping) return;
    sweeping = true;
    platform.channels
      .sweep()
      .catch((error: unknown) => logger.error({ err: error }, 'channel sweep failed'))
      .finally(() => {
        sweeping = false;
      });
  }, limits.channelSweepIntervalMs);
  const daily = new DailyChannelWork(
    platform.db,
    platform.clock,
    platform.channels,
    platform.reconciler,
    platform.reserves,
  );
  let dailyRunning = false;
  const channelDaily = setInterval(() => {
    if (dailyRunning) return;
    dailyRunning = true;
    daily
      .tick()
      .then((runs) => {
        for (const run of runs) logger.info({ reconciliation: run }, 'daily reconciliation done');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'daily channel work failed'))
      .finally(() => {
        dailyRunning = false;
      });
  }, limits.channelDailyTickMs);
  return {
    url,
    async close() {
      clearInterval(channelSweep);
      clearInterval(channelDaily);
      // Order matters: once no request can arrive, every accepted ledger event is answered and
      // committed before storage closes, so nothing acknowledged is lost.
      await app.close();
      clearInterval(tradeSweep);
      await escrowSweep.stop();
      await settlementJob.stop();
      dispatcher.stop();
      await platform.close();
    },
  };
}

/**
 * On SIGTERM or SIGINT: close the server, then exit 0; exit 1 when closing fails or takes longer
 * than `limits.shutdownDrainMs`. Repeated signals are ignored while the drain runs, since killing
 * the process mid-commit would gain nothing the hard timeout does not already give.
 */
export function exitOnSignals(server: RunningServer, logger: Logger): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'shutdown already in progress');
      return;
    }
    closing = true;
    logger.info({ signal }, 'shutting down: draining in-flight work');
    const timer = setTimeout(() => {
      logger.fatal({ timeoutMs: limits.shutdownDrainMs }, 'shutdown timed out');
      process.exit(1);
    }, limits.shutdownDrainMs);
    timer.unref();
    server.close().then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.fatal({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Runs `work` every `intervalMs`, never two at once; `stop` waits for the run in progress. */
function repeat(
  intervalMs: number,
  logger: Logger,
  name: string,
  work: () => Promise<void>,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = work()
      .catch((error: unknown) => logger.error({ err: error }, `${name} failed`))
      .finally(() => {
        running = undefined;
      });
  }, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
