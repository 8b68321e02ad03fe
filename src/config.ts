/** The platform's configuration, from the environment; every setting has a working default. */
export interface Config {
  port: number;
  host: string;
  /** Set → PostgreSQL; unset → PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  /** Optional PostgreSQL schema (created when missing): how tests and CI isolate runs. */
  databaseSchema: string | undefined;
  dataDir: string;
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: Number(env.PORT ?? 8080),
    host: env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.PAYBAO_DB_SCHEMA || undefined,
    dataDir: env.PAYBAO_DATA_DIR ?? './data',
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
