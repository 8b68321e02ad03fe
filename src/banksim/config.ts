/**
 * The simulator's configuration: its banks (limits, customers, merchant accounts) and its faults.
 * Everything has a working default, so `paybao bank-sim` runs with no file at all; a JSON file
 * (`--config`) replaces the banks and sets the faults.
 */
import { parseAmount } from '../core/money.ts';

/** A customer's account at a bank: the card number is the account number. */
export interface CustomerConfig {
  name: string;
  cardNo: string;
  phone: string;
  /** The 6-digit card password typed on the payment page (a simulator stores it in the clear). */
  password: string;
  /** Opening balance, a decimal string in yuan ("1000.00"). */
  balance: string;
}

/** A platform's merchant account at a bank: the shared HMAC secret and the settlement account. */
export interface MerchantConfig {
  id: string;
  secret: string;
  /** Opening balance of the settlement account, which payouts draw on. */
  settlementBalance: string;
}

export interface BankConfig {
  code: string;
  name: string;
  /** The most one debit of a customer (gateway payment or withholding) may take, in yuan. */
  paymentMax: string;
  /** The most a customer's card may be debited per Beijing day, in yuan. */
  dailyMax: string;
  /** The most one payout may carry, in yuan. */
  payoutMax: string;
  customers: CustomerConfig[];
  merchants: MerchantConfig[];
}

/**
 * Faults, each decided by hashing the seed with the order it hits (see `faults.ts`), so a run
 * with the same seed and the same requests fails the same way. Rates are in [0, 1].
 */
export interface FaultConfig {
  seed: number;
  /** Added to every merchant request: a delay drawn uniformly from [latencyMinMs, latencyMaxMs]. */
  latencyMinMs: number;
  latencyMaxMs: number;
  /** A write answers 503 SYSTEM_BUSY before doing anything. */
  errorRate: number;
  /** A write is never answered and nothing moves. */
  timeoutBeforeRate: number;
  /** A write is done (money moved, order final) and then never answered. */
  timeoutAfterRate: number;
  /** How an unanswered request ends: held for `hangMs` and then dropped, or dropped at once. */
  timeoutMode: 'hang' | 'drop';
  hangMs: number;
  /** A callback is delivered twice (a second time after the first succeeded). */
  duplicateCallbackRate: number;
  /** Statement lines dropped, given a wrong amount (+1 fen), or given the other final status. */
  statementDropRate: number;
  statementAmountRate: number;
  statementStatusRate: number;
}

export interface BankSimConfig {
  banks: BankConfig[];
  faults: FaultConfig;
}

export const noFaults: FaultConfig = {
  seed: 1,
  latencyMinMs: 0,
  latencyMaxMs: 0,
  errorRate: 0,
  timeoutBeforeRate: 0,
  timeoutAfterRate: 0,
  timeoutMode: 'hang',
  hangMs: 30_000,
  duplicateCallbackRate: 0,
  statementDropRate: 0,
  statementAmountRate: 0,
  statementStatusRate: 0,
};

/** The development merchant every default bank knows: the platform's account. */
export const defaultMerchant: MerchantConfig = {
  id: 'paybao',
  secret: 'paybao-bank-sim-dev-secret',
  settlementBalance: '10000000.00',
};

function defaultBank(code: string, name: string, bin: string, paymentMax: string, dailyMax: string): BankConfig {
  const people = [
    ['Zhang San', '13800000001'],
    ['Li Si', '13800000002'],
    ['Wang Wu', '13800000003'],
  ] as const;
  return {
    code,
    name,
    paymentMax,
    dailyMax,
    payoutMax: '500000.00',
    customers: people.map(([person, phone], i) => ({
      name: person,
      cardNo: `${bin}${String(i + 1).padStart(10, '0')}`,
      phone,
      password: '123456',
      balance: '100000.00',
    })),
    merchants: [{ ...defaultMerchant }],
  };
}

export function defaultBanks(): BankConfig[] {
  return [
    defaultBank('ICBC', 'Industrial and Commercial Bank of China', '622202', '50000.00', '200000.00'),
    defaultBank('CMB', 'China Merchants Bank', '622588', '20000.00', '50000.00'),
    defaultBank('ABC', 'Agricultural Bank of China', '622848', '10000.00', '30000.00'),
  ];
}

export function defaultConfig(): BankSimConfig {
  return { banks: defaultBanks(), faults: { ...noFaults } };
}

const rateKeys = [
  'errorRate',
  'timeoutBeforeRate',
  'timeoutAfterRate',
  'duplicateCallbackRate',
  'statementDropRate',
  'statementAmountRate',
  'statementStatusRate',
] as const;
const msKeys = ['latencyMinMs', 'latencyMaxMs', 'hangMs'] as const;

/**
 * Merges a partial fault setting over `base`; throws an Error naming the first bad field (the
 * admin API answers it as 400, the CLI as its exit message).
 */
export function parseFaults(input: unknown, base: FaultConfig = noFaults): FaultConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new Error('faults must be an object');
  const out: FaultConfig = { ...base };
  for (const [key, value] of Object.entries(input)) {
    if ((rateKeys as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1))
        throw new Error(`${key} must be a number in [0, 1]`);
      out[key as (typeof rateKeys)[number]] = value;
    } else if ((msKeys as readonly string[]).includes(key)) {
      if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 600_000)
        throw new Error(`${key} must be an integer of milliseconds in [0, 600000]`);
      out[key as (typeof msKeys)[number]] = value as number;
    } else if (key === 'seed') {
      if (!Number.isSafeInteger(value)) throw new Error('seed must be an integer');
      out.seed = value as number;
    } else if (key === 'timeoutMode') {
      if (value !== 'hang' && value !== 'drop') throw new Error('timeoutMode must be "hang" or "drop"');
      out.timeoutMode = value;
    } else {
      throw new Error(`unknown fault setting: ${key}`);
    }
  }
  if (out.latencyMaxMs < out.latencyMinMs) throw new Error('latencyMaxMs must not be below latencyMinMs');
  if (out.timeoutBeforeRate + out.timeoutAfterRate + out.errorRate > 1)
    throw new Error('errorRate + timeoutBeforeRate + timeoutAfterRate must not exceed 1');
  return out;
}

/** Checks a whole configuration (from a JSON file); throws an Error naming what is wrong. */
export function parseConfig(input: unknown): BankSimConfig {
  if (typeof input !== 'object' || input === null) throw new Error('the configuration must be a JSON object');
  const { banks, faults } = input as { banks?: unknown; faults?: unknown };
  const config = defaultConfig();
  if (faults !== undefined) config.faults = parseFaults(faults);
  if (banks !== undefined) {
    if (!Array.isArray(banks) || banks.length === 0) throw new Error('banks must be a non-empty array');
    config.banks = banks as BankConfig[];
  }
  for (const bank of config.banks) checkBank(bank);
  return config;
}

function checkBank(bank: BankConfig): void {
  if (!/^[A-Z]{2,10}$/.test(bank.code ?? '')) throw new Error(`bank code must be 2-10 capital letters: ${bank.code}`);
  for (const key of ['paymentMax', 'dailyMax', 'payoutMax'] as const) {
    if (!parseAmount(String(bank[key]))) throw new Error(`${bank.code}.${key} must be a positive amount`);
  }
  for (const c of bank.customers ?? []) {
    if (!/^\d{16,19}$/.test(c.cardNo ?? ''))
      throw new Error(`${bank.code}: card numbers have 16-19 digits: ${c.cardNo}`);
    if (parseAmount(String(c.balance)) === undefined) throw new Error(`${bank.code}/${c.cardNo}: bad balance`);
  }
  if (!Array.isArray(bank.merchants) || bank.merchants.length === 0)
    throw new Error(`${bank.code}: at least one merchant account`);
  for (const m of bank.merchants) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(m.id ?? '')) throw new Error(`${bank.code}: bad merchant id ${m.id}`);
    if (typeof m.secret !== 'string' || m.secret.length < 16)
      throw new Error(`${bank.code}/${m.id}: secret of 16+ characters`);
    if (parseAmount(String(m.settlementBalance)) === undefined)
      throw new Error(`${bank.code}/${m.id}: bad settlementBalance`);
  }
}
