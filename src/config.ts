import { limits } from './core/limits.ts';

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
  /**
   * `PAYBAO_PUBLIC_URL` as the operator set it (its origin), or undefined when unset: the pages
   * then take form posts only from this origin, and their cookies are Secure when it is https.
   * Unset, they trust the Host each request came to (see src/server/web-security.ts).
   */
  configuredPublicUrl: string | undefined;
  /** How often the settlement job merges sellers' released money into payouts (default daily). */
  settlementIntervalMs: number;
  /** `PAYBAO_KEY_PASSPHRASE`: the platform's private keys are stored encrypted under it. */
  keyPassphrase: string | undefined;
}

/** Reads the configuration; a malformed setting is an error that names it, never a silent default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT || 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`PORT must be a port number, not "${env.PORT}"`);
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    databaseUrl: env.DATABASE_URL || undefined,
    databaseSchema: env.PAYBAO_DB_SCHEMA || undefined,
    dataDir: env.PAYBAO_DATA_DIR ?? './data',
    logLevel: env.LOG_LEVEL ?? 'info',
    configuredPublicUrl: configuredOrigin(env, 'PAYBAO_PUBLIC_URL'),
    settlementIntervalMs: positiveMs(env, 'PAYBAO_SETTLEMENT_INTERVAL_MS', limits.settlementIntervalMs),
    keyPassphrase: passphrase(env, 'PAYBAO_KEY_PASSPHRASE'),
  };
}

/** A secret that protects keys: unset, or at least `keyPassphraseMin` characters. */
function passphrase(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  if (text.length < limits.keyPassphraseMin)
    throw new Error(`${name} must be at least ${limits.keyPassphraseMin} characters long`);
  return text;
}

/** The origin of an http(s) URL setting (a path is allowed; a query, fragment or credentials are not). */
function configuredOrigin(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${name} must be an http or https URL such as https://pay.example.com, not "${text}"`);
  }
  const plain = !url.search && !url.hash && !url.username && !url.password;
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !plain)
    throw new Error(`${name} must be an http or https URL without query, fragment or credentials, not "${text}"`);
  return url.origin;
}

function positiveMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new Error(`${name} must be a positive whole number of milliseconds, not "${text}"`);
  return ms;
}

/** Where the configuration says the data lives, in the shape openDb takes. */
export function storageOf(config: Config): {
  databaseUrl: string | undefined;
  schema: string | undefined;
  dataDir: string | undefined;
} {
  // PGlite keeps its files in dataDir; on PostgreSQL the data directory is unused.
  return {
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
    dataDir: config.databaseUrl ? undefined : config.dataDir,
  };
}

/** The same, in the shape openPlatform takes, with the passphrase of the platform's keys. */
export function platformStorageOf(config: Config): {
  databaseUrl: string | undefined;
  databaseSchema: string | undefined;
  dataDir: string | undefined;
  keyPassphrase: string | undefined;
} {
  const { databaseUrl, schema, dataDir } = storageOf(config);
  return { databaseUrl, databaseSchema: schema, dataDir, keyPassphrase: config.keyPassphrase };
}
