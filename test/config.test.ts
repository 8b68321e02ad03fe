/**
 * The configuration (src/config.ts), the one place the environment is read: every setting has a
 * working default, and a malformed value of any setting is one error that names that setting,
 * never a silent default.
 */
import { describe, expect, it } from 'vitest';
import { channelBanksFromEnv, loadConfig, platformStorageOf } from '../src/config.ts';

/** Each setting with a value it must refuse. */
const badValues: [string, string][] = [
  ['PORT', '80a'],
  ['PORT', '70000'],
  ['DATABASE_URL', 'mysql://root@localhost/paybao'],
  ['DATABASE_URL', 'not a url'],
  ['PAYBAO_DB_SCHEMA', 'drop table; --'],
  ['LOG_LEVEL', 'verbose'],
  ['PAYBAO_PUBLIC_URL', 'pay.example.com'],
  ['PAYBAO_SETTLEMENT_INTERVAL_MS', '-5'],
  ['PAYBAO_SETTLEMENT_INTERVAL_MS', '1.5'],
  ['PAYBAO_KEY_PASSPHRASE', 'short'],
  ['PAYBAO_OPERATOR_TOKEN', 'two words'],
  ['PAYBAO_REGULATOR_TOKEN', 'tab\there'],
  ['PAYBAO_BANK_SIM', 'no'],
  ['PAYBAO_BANK_SIM_PORT', 'ninety'],
  ['PAYBAO_DEMO', 'yes'],
  ['PAYBAO_BANK_URL', 'ftp://bank.example.com'],
  ['PAYBAO_CONCURRENCY_MAX', '0'],
  ['PAYBAO_CONCURRENCY_MAX', 'many'],
  ['PAYBAO_QUEUE_WAIT_MS', '-1'],
  ['PAYBAO_APP_RATE', '2.5'],
  ['PAYBAO_USER_RATE', '1e3'],
];

describe('loadConfig', () => {
  it('gives every setting a working default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: undefined,
      databaseSchema: undefined,
      dataDir: './data',
      logLevel: 'info',
      operatorToken: undefined,
      regulatorToken: undefined,
      bankSim: true,
      bankSimPort: 9001,
      demo: true,
      bankUrl: 'http://127.0.0.1:9001',
      overload: { concurrencyMax: 2048, queueWaitMs: 500, appRequestsPerSecond: 5000, userRequestsPerSecond: 50 },
    });
    expect(platformStorageOf(config).channelBanks.map((b) => [b.code, b.baseUrl])).toEqual([
      ['ICBC', 'http://127.0.0.1:9001'],
      ['CMB', 'http://127.0.0.1:9001'],
      ['ABC', 'http://127.0.0.1:9001'],
    ]);
  });

  it('takes well-formed values', () => {
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      PAYBAO_DB_SCHEMA: 't_0a1b',
      LOG_LEVEL: 'warn',
      PAYBAO_OPERATOR_TOKEN: 'op-token-1',
      PAYBAO_BANK_SIM: 'off',
      PAYBAO_BANK_SIM_PORT: '9100',
      PAYBAO_DEMO: 'off',
      PAYBAO_CONCURRENCY_MAX: '64',
      PAYBAO_QUEUE_WAIT_MS: '250',
      PAYBAO_APP_RATE: '100',
      PAYBAO_USER_RATE: '5',
    });
    expect(config.overload).toEqual({
      concurrencyMax: 64,
      queueWaitMs: 250,
      appRequestsPerSecond: 100,
      userRequestsPerSecond: 5,
    });
    expect(config).toMatchObject({
      port: 0,
      databaseSchema: 't_0a1b',
      logLevel: 'warn',
      operatorToken: 'op-token-1',
      bankSim: false,
      demo: false,
      bankUrl: 'http://127.0.0.1:9100',
    });
    expect(channelBanksFromEnv({ PAYBAO_BANK_URL: 'https://bank.example.com' })[0]?.baseUrl).toBe(
      'https://bank.example.com',
    );
  });

  it.each(badValues)('refuses a malformed %s (%j) with an error that names it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it("takes a cluster's host list in the libpq form, and refuses a session Paybao cannot write in", () => {
    const cluster = 'postgres://postgres@10.0.0.1:5432,10.0.0.2:5432/paybao?target_session_attrs=read-write';
    expect(loadConfig({ DATABASE_URL: cluster }).databaseUrl).toBe(cluster);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://a:1,b:2/paybao?target_session_attrs=standby' })).toThrow(
      /read-write/,
    );
    expect(() => loadConfig({ DATABASE_URL: 'postgres://a:1,b:port/paybao' })).toThrow(/several hosts/);
  });

  it('does not echo a malformed DATABASE_URL, which may carry a password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:secret@db/paybao' })).toThrow(
      /^DATABASE_URL must be a postgres/,
    );
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root:secret@db/paybao' })).not.toThrow(/secret/);
  });
});
