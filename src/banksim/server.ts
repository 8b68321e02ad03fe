import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Clock, systemClock } from '../core/clock.ts';
import { type Db, migrate, openDb } from '../core/db/index.ts';
import { Banks } from './bank.ts';
import { CallbackDispatcher } from './callbacks.ts';
import { type BankSimConfig, defaultConfig } from './config.ts';
import { Faults } from './faults.ts';
import { buildBankSimApp } from './http.ts';
import { bankSimMigrations } from './migrations.ts';

export interface BankSimOptions {
  port?: number;
  host?: string;
  /** PGlite files of the simulator's own database; undefined keeps it in memory. */
  dataDir?: string | undefined;
  config?: BankSimConfig;
  clock?: Clock;
  logger?: Logger | undefined;
}

export interface RunningBankSim {
  url: string;
  app: FastifyInstance;
  db: Db;
  banks: Banks;
  faults: Faults;
  callbacks: CallbackDispatcher;
  close(): Promise<void>;
}

/**
 * Opens the simulator's own database (always PGlite: the simulator is an outside system, not a
 * tenant of the platform's database), seeds the configured banks, starts the callback
 * dispatcher and listens.
 */
export async function startBankSim(options: BankSimOptions = {}): Promise<RunningBankSim> {
  const config = options.config ?? defaultConfig();
  const db = await openDb({ dataDir: options.dataDir });
  try {
    await migrate(db, bankSimMigrations);
    const faults = new Faults(config.faults);
    const banks = new Banks(db, options.clock ?? systemClock, faults);
    await banks.seed(config.banks);
    const callbacks = new CallbackDispatcher(db, (bank, merchant) => banks.secretOf(bank, merchant));
    let url = '';
    const app = await buildBankSimApp({ db, banks, faults, callbacks, publicUrl: () => url, logger: options.logger });
    url = await app.listen({ port: options.port ?? 9001, host: options.host ?? '127.0.0.1' });
    callbacks.start((error) => app.log.error({ err: error }, 'callback dispatch failed'));
    const close = async () => {
      await callbacks.stop();
      await app.close();
      await db.close();
    };
    return { url, app, db, banks, faults, callbacks, close };
  } catch (error) {
    await db.close();
    throw error;
  }
}
