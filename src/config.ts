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
  /**
   * `PAYBAO_PUBLIC_URL`: where banks, buyers and merchants reach the platform (bank callbacks,
   * QR codes, bill links), without a trailing slash. Every process reads it, so that a bank order
   * resent by the CLI or a second process says exactly what the server's first send said.
   * Default: the server's own address, `http://HOST:PORT` (a wildcard HOST as the loopback);
   * undefined only when PORT is 0, whose port no process knows before the server listens.
   */
  publicUrl: string | undefined;
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
    publicUrl: publicUrl(env, env.HOST ?? '127.0.0.1', port),
  };
}

/**
 * The public URL the environment names (see `Config.publicUrl`), for processes that open the
 * platform without a `Config`; it throws when used if PORT is 0 and PAYBAO_PUBLIC_URL unset.
 */
export function publicUrlFromEnv(env: NodeJS.ProcessEnv = process.env): () => string {
  const url = publicUrl(env, env.HOST ?? '127.0.0.1', Number(env.PORT || 8080));
  return () => {
    if (url === undefined) throw new Error('the public URL is unknown with PORT=0: set PAYBAO_PUBLIC_URL');
    return url;
  };
}

/** PAYBAO_PUBLIC_URL as an http(s) origin with an optional path, or the server's own address. */
function publicUrl(env: NodeJS.ProcessEnv, host: string, port: number): string | undefined {
  const text = env.PAYBAO_PUBLIC_URL;
  if (text === undefined || text === '') {
    if (port === 0) return undefined;
    // A server listening on every interface is reached on this machine through the loopback.
    const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`PAYBAO_PUBLIC_URL must be an http or https URL, not "${text}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash)
    throw new Error(`PAYBAO_PUBLIC_URL must be an http or https URL without query or fragment, not "${text}"`);
  return text.replace(/\/+$/, '');
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
  publicUrl: (() => string) | undefined;
} {
  const { databaseUrl, schema, dataDir } = storageOf(config);
  const { publicUrl } = config;
  return {
    databaseUrl,
    databaseSchema: schema,
    dataDir,
    keyPassphrase: config.keyPassphrase,
    publicUrl: publicUrl === undefined ? undefined : () => publicUrl,
  };
}
