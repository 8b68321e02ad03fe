import { type ChannelBankConfig, defaultChannelBanks } from './channels/index.ts';
import { splitHosts } from './core/db/index.ts';
import { limits } from './core/limits.ts';

/** The platform's configuration, from the environment; every setting has a working default. */
export interface Config {
  port: number;
  host: string;
  /** Set → PostgreSQL; unset → PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  /** Optional PostgreSQL schema (created when missing): how tests and CI isolate runs. */
  databaseSchema: string | undefined;
  /** `REDIS_URL`: where the risk engine's velocity counters are shared; unset, in the database. */
  redisUrl: string | undefined;
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
  /** `PAYBAO_OPERATOR_TOKEN`: the bearer token of the operators' API (`/ops/v1`); unset, operators' own tokens only. */
  operatorToken: string | undefined;
  /** `PAYBAO_REGULATOR_TOKEN`: the bearer token of the regulator's read-only API; unset, closed. */
  regulatorToken: string | undefined;
  /** `PAYBAO_BANK_SIM` (`on` by default, or `off`): whether `paybao start` runs the bank simulator beside it. */
  bankSim: boolean;
  /** `PAYBAO_BANK_SIM_PORT` (9001): where that simulator listens. */
  bankSimPort: number;
  /** `PAYBAO_DEMO` (`on` by default, or `off`): whether a fresh embedded install creates the demo (src/cli/demo.ts). */
  demo: boolean;
  /** `PAYBAO_BANK_URL`: where the channels reach the banks; default the simulator on `bankSimPort`. */
  bankUrl: string;
  /**
   * Overload protection (src/server/overload.ts): `PAYBAO_CONCURRENCY_MAX`, the most requests in
   * flight (the adaptive limit's ceiling); `PAYBAO_QUEUE_WAIT_MS`, the longest a payment may
   * expect to wait for the event loop before it is refused (lower classes: their share);
   * `PAYBAO_APP_RATE` and `PAYBAO_USER_RATE`, requests per second one gateway app and one user
   * of the native API may send.
   */
  overload: {
    concurrencyMax: number;
    queueWaitMs: number;
    appRequestsPerSecond: number;
    userRequestsPerSecond: number;
  };
}

/** The pino levels LOG_LEVEL may name. */
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the configuration; a malformed setting is an error that names it, never a silent default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = portNumber(env, 'PORT', 8080);
  const host = nonEmpty(env, 'HOST') ?? '127.0.0.1';
  const bankSimPort = portNumber(env, 'PAYBAO_BANK_SIM_PORT', 9001);
  return {
    port,
    host,
    databaseUrl: databaseUrl(env, 'DATABASE_URL'),
    databaseSchema: schemaName(env, 'PAYBAO_DB_SCHEMA'),
    // Not echoed: the URL may carry a password.
    redisUrl: urlSetting(env, 'REDIS_URL', ['redis:', 'rediss:'], 'REDIS_URL must be a redis:// or rediss:// URL'),
    dataDir: env.PAYBAO_DATA_DIR ?? './data',
    logLevel: oneOf(env, 'LOG_LEVEL', logLevels) ?? 'info',
    configuredPublicUrl: configuredOrigin(env, 'PAYBAO_PUBLIC_URL'),
    settlementIntervalMs: positiveMs(env, 'PAYBAO_SETTLEMENT_INTERVAL_MS', limits.settlementIntervalMs),
    keyPassphrase: passphrase(env, 'PAYBAO_KEY_PASSPHRASE'),
    publicUrl: publicUrl(env, host, port),
    operatorToken: bearerToken(env, 'PAYBAO_OPERATOR_TOKEN'),
    regulatorToken: bearerToken(env, 'PAYBAO_REGULATOR_TOKEN'),
    bankSim: oneOf(env, 'PAYBAO_BANK_SIM', ['on', 'off']) !== 'off',
    bankSimPort,
    demo: oneOf(env, 'PAYBAO_DEMO', ['on', 'off']) !== 'off',
    bankUrl: httpUrl(env, 'PAYBAO_BANK_URL') ?? `http://127.0.0.1:${bankSimPort}`,
    overload: {
      concurrencyMax: positiveInteger(env, 'PAYBAO_CONCURRENCY_MAX', limits.overloadConcurrencyMax),
      queueWaitMs: positiveMs(env, 'PAYBAO_QUEUE_WAIT_MS', limits.overloadQueueWaitMs),
      appRequestsPerSecond: positiveInteger(env, 'PAYBAO_APP_RATE', limits.appRequestsPerSecondMax),
      userRequestsPerSecond: positiveInteger(env, 'PAYBAO_USER_RATE', limits.userRequestsPerSecondMax),
    },
  };
}

/**
 * The banks the environment names (`PAYBAO_BANK_URL`, the simulator's banks by default), for
 * processes that open the platform without a `Config`.
 */
export function channelBanksFromEnv(env: NodeJS.ProcessEnv = process.env): ChannelBankConfig[] {
  const bankSimPort = portNumber(env, 'PAYBAO_BANK_SIM_PORT', 9001);
  return defaultChannelBanks(httpUrl(env, 'PAYBAO_BANK_URL') ?? `http://127.0.0.1:${bankSimPort}`);
}

/**
 * The public URL the environment names (see `Config.publicUrl`), for processes that open the
 * platform without a `Config`; it throws when used if PORT is 0 and PAYBAO_PUBLIC_URL unset.
 */
export function publicUrlFromEnv(env: NodeJS.ProcessEnv = process.env): () => string {
  const url = publicUrl(env, nonEmpty(env, 'HOST') ?? '127.0.0.1', portNumber(env, 'PORT', 8080));
  return () => {
    if (url === undefined) throw new Error('the public URL is unknown with PORT=0: set PAYBAO_PUBLIC_URL');
    return url;
  };
}

/** A setting's text; unset and empty are the same (take the default). */
function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = env[name];
  return text === undefined || text === '' ? undefined : text;
}

function portNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = nonEmpty(env, name);
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new Error(`${name} must be a port number, not "${text}"`);
  return port;
}

function oneOf(env: NodeJS.ProcessEnv, name: string, allowed: readonly string[]): string | undefined {
  const text = nonEmpty(env, name);
  if (text !== undefined && !allowed.includes(text))
    throw new Error(`${name} must be one of ${allowed.join(', ')}, not "${text}"`);
  return text;
}

/**
 * A PostgreSQL URL, or a cluster's: several hosts in the libpq form (`postgres://u@h1:p1,h2:p2/db`),
 * each of which must make a URL of its own.
 */
function databaseUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = nonEmpty(env, name);
  if (text === undefined) return undefined;
  // Not echoed: the URL may carry a password.
  const refusal = `${name} must be a postgres:// or postgresql:// URL (several hosts: postgres://user@host1:port1,host2:port2/db)`;
  for (const url of splitHosts(text).urls) urlSetting({ [name]: url }, name, ['postgres:', 'postgresql:'], refusal);
  return text;
}

/** A PostgreSQL schema name the platform can create and name unquoted. */
function schemaName(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = nonEmpty(env, name);
  if (text !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(text))
    throw new Error(`${name} must be an SQL name (letters, digits, _), not "${text}"`);
  return text;
}

/** A bearer token: it travels as `Authorization: Bearer <token>`, so it holds no white space. */
function bearerToken(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = nonEmpty(env, name);
  if (text !== undefined && /\s/.test(text)) throw new Error(`${name} must be a token without white space`);
  return text;
}

function httpUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const text = nonEmpty(env, name);
  return urlSetting(env, name, ['http:', 'https:'], `${name} must be an http or https URL, not "${text}"`);
}

/** A URL setting whose scheme is one of `protocols`; anything else is refused with `refusal`. */
function urlSetting(
  env: NodeJS.ProcessEnv,
  name: string,
  protocols: readonly string[],
  refusal: string,
): string | undefined {
  const text = nonEmpty(env, name);
  if (text === undefined) return undefined;
  if (!URL.canParse(text) || !protocols.includes(new URL(text).protocol)) throw new Error(refusal);
  return text;
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

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = nonEmpty(env, name);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0)
    throw new Error(`${name} must be a positive whole number, not "${text}"`);
  return n;
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

/** The same, in the shape openPlatform takes, with the passphrase of the platform's keys and the banks. */
export function platformStorageOf(config: Config): {
  databaseUrl: string | undefined;
  databaseSchema: string | undefined;
  dataDir: string | undefined;
  keyPassphrase: string | undefined;
  publicUrl: (() => string) | undefined;
  channelBanks: ChannelBankConfig[];
  redisUrl: string | undefined;
} {
  const { databaseUrl, schema, dataDir } = storageOf(config);
  const { publicUrl } = config;
  return {
    databaseUrl,
    databaseSchema: schema,
    dataDir,
    keyPassphrase: config.keyPassphrase,
    publicUrl: publicUrl === undefined ? undefined : () => publicUrl,
    channelBanks: defaultChannelBanks(config.bankUrl),
    redisUrl: config.redisUrl,
  };
}
