import pino, { type Logger } from 'pino';
import { DailyChannelWork } from '../channels/index.ts';
import { type Config, platformStorageOf } from '../config.ts';
import { failureLogLevel } from '../core/db/index.ts';
import { JobRunner, SweepFailures } from '../core/jobs.ts';
import { limits } from '../core/limits.ts';
import { NotificationDispatcher } from '../notifications/index.ts';
import { openPlatform, type Platform } from '../platform.ts';
import { overloadOf } from './app.ts';
import { createMetrics } from './metrics.ts';
import { buildPlatformApp, notificationChannel } from './platform-app.ts';

export interface RunningServer {
  /** Where it listens, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** The platform it serves, for what `paybao start` does beside serving (the demo). */
  platform: Platform;
  /** Stops accepting connections, answers what is in flight, then drains the ledger and closes storage. */
  close(): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel });
}

export interface StartOptions {
  /**
   * Runs on the opened platform before anything is recorded or served; a throw stops the start
   * (the CLI refuses a restored database whose books fail verification here).
   */
  beforeServing?: (platform: Platform) => Promise<void>;
  /**
   * Serve the books to look at them, changing nothing (`paybao start --read-only`): every session
   * read-only, no migration, no start-up recovery, no background job, no notification; a request
   * that would write is refused (`read_only`).
   */
  readOnly?: boolean;
}

/** Opens the platform on the configured engine, starts its background work, and listens. */
export async function startServer(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningServer> {
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
    readOnly: options.readOnly,
  });
  // Before serving: a payment whose money moved before a crash answers TRADE_SUCCESS from the
  // first query on, not once a sweep comes by.
  const unrecorded = new SweepFailures();
  const recovered = await (async () => {
    await options.beforeServing?.(platform);
    return options.readOnly ? 0 : platform.trades.recoverInterruptedPayments(unrecorded);
  })().catch(async (error: unknown) => {
    await platform.close();
    throw error;
  });
  if (recovered > 0) logger.info({ trades: recovered }, 'recorded payments a crash had interrupted');
  for (const error of unrecorded.errors)
    logger.error({ err: error }, 'an interrupted payment could not be recorded: the trade sweep retries it');
  const app = await buildPlatformApp({
    platform,
    logger,
    metrics,
    publicUrl,
    // The pages trust only this origin when PAYBAO_PUBLIC_URL is set (web-security.ts).
    configuredPublicUrl: config.configuredPublicUrl,
    operatorToken: config.operatorToken,
    regulatorToken: config.regulatorToken,
    // The server measures its event loop: the queueing bound and the adaptive limit act on it.
    overload: { ...config.overload, measureLoad: true },
  });
  // Background rounds (sweeps, notifications) yield to requests: the lowest class.
  const overload = overloadOf(app);
  try {
    url = await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await platform.close();
    throw error;
  }
  if (options.readOnly) {
    logger.warn('started read-only: the books are served to look at, and every request that would write is refused');
    return {
      url,
      platform,
      async close() {
        await app.close();
        await platform.close();
      },
    };
  }
  const key = (await platform.members.platformKeys()).active;
  // The dispatcher keeps its own loop (a full round goes on at once); stop() ends it.
  const dispatcher = new NotificationDispatcher(
    platform.db,
    platform.clock,
    notificationChannel(platform, key.privateKey),
    (error) => {
      // Its own loop, not a JobRunner job (a full round goes on at once), reported the same way.
      const level = failureLogLevel(error);
      logger[level]({ err: error, job: 'notifications' }, 'notifications failed');
      metrics.observeJob({ job: 'notifications', durationMs: 0, failures: 1 });
    },
  );
  dispatcher.start(limits.notifyPollIntervalMs, () => overload.admitsBackground());
  // Background rounds yield to requests, but for the risk engine's sync: it is cheap, and without it
  // the other processes stop seeing this one's payments in their velocity windows.
  const jobs = new JobRunner({
    logger,
    onRun: metrics.observeJob,
    admit: (job) => job === riskSyncJob || overload.admitsBackground(),
  });
  startJobs(jobs, platform, config, logger);
  return {
    url,
    platform,
    async close() {
      // Order matters: no job starts again, and once no request can arrive and the jobs' running
      // rounds are over, every accepted ledger event is answered and committed before storage
      // closes, so nothing acknowledged is lost.
      const jobsDone = jobs.close();
      await app.close();
      await jobsDone;
      await dispatcher.stop();
      await platform.close();
    },
  };
}

/** Every background job of the server, on the one runner (none overlaps itself; close awaits them). */
function startJobs(jobs: JobRunner, platform: Platform, config: Config, logger: Logger): void {
  jobs.every('ledger expiry', limits.expirySweepIntervalMs, async () => {
    // Keep sweeping while whole sweep batches come back: a backlog drains at full speed.
    while ((await platform.ledger.expirePendingTransfers()) === limits.expiryBatchMax) {}
  });
  jobs.every('trade sweep', limits.tradeSweepIntervalMs, () => platform.trades.sweep());
  jobs.every('payout sweep', limits.tradeSweepIntervalMs, () => platform.payouts.sweep());
  jobs.every('escrow sweep', limits.tradeSweepIntervalMs, async () => {
    await platform.escrow.sweepAll();
    await platform.afterSale.sweep();
    await platform.royalties.sweep();
  });
  jobs.every('settlement', config.settlementIntervalMs, async () => {
    const made = await platform.settlements.run();
    if (made.length > 0) logger.info({ settlements: made.length }, 'settled sellers');
  });
  // Channels: open orders are asked about on their backoff (a sweep waiting on slow banks may
  // outlast its interval, and the runner never starts a second); the daily reconciliation and
  // reserve report run once their time has come (see DailyChannelWork).
  jobs.every('channel sweep', limits.channelSweepIntervalMs, () => platform.channels.sweep());
  const daily = new DailyChannelWork(
    platform.db,
    platform.clock,
    platform.channels,
    platform.reconciler,
    platform.reserves,
  );
  jobs.every('channel daily', limits.channelDailyTickMs, async () => {
    for (const run of await daily.tick()) logger.info({ reconciliation: run }, 'daily reconciliation done');
  });
  // Fund: declared income distributed, due purchases and redemptions confirmed (idempotent).
  jobs.every('fund', limits.fundJobIntervalMs, () => platform.fund.runDue());
  jobs.every('social sweep', limits.redPacketSweepIntervalMs, () => platform.social.sweep());
  jobs.every('oauth sweep', limits.oauthSweepIntervalMs, () => platform.oauth.sweep());
  // Credit: the nightly scoring of every user once a Beijing night (resuming a crashed run), and
  // the gateway's transaction ids forgotten after their 24 hours.
  jobs.every('credit', limits.creditJobIntervalMs, async () => {
    const run = await platform.credit.runDue();
    if (run) logger.info({ credit: run }, 'nightly credit scoring done');
    await platform.credit.sweep();
  });
  // Freezes: unconfirmed app freezes close, freezes past their term unfreeze, debts are collected.
  jobs.every('preauth sweep', limits.preauthSweepIntervalMs, () => platform.preauth.sweep());
  // Risk: counters shared with the other processes, rules reloaded when changed; reviews an
  // operator decided whose money a crash left unmoved.
  jobs.every(riskSyncJob, limits.riskSyncMs, () => platform.risk.sync());
  jobs.every('risk reviews', limits.tradeSweepIntervalMs, () => platform.risk.sweepReviews());
  // PGlite runs PostgreSQL as one backend without its checkpointer: nothing checkpoints unless
  // asked, so the WAL would grow without end (2.4 GB seen in a bench) and a restart would replay
  // all of it. A checkpoint on PostgreSQL's own schedule lets it recycle the segments.
  if (platform.db.engine === 'pglite')
    jobs.every('pglite checkpoint', limits.pgliteCheckpointIntervalMs, () => platform.db.exec('checkpoint'));
}

/** The one background job never skipped under overload (see `startServer`). */
const riskSyncJob = 'risk sync';

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
