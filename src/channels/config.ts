import { limits } from '../core/limits.ts';

/** One bank as the platform is configured to reach it. */
export interface ChannelBankConfig {
  /** The bank's code in its protocol and in channel orders (`ICBC`). */
  code: string;
  name: string;
  /** Where the bank's merchant API answers (`http://127.0.0.1:9001`). */
  baseUrl: string;
  /** The platform's merchant id at the bank and the secret it signs with. */
  merchantId: string;
  secret: string;
  /** The most one top-up (gateway or withholding) may carry, in fen. */
  paymentMaxFen: bigint;
  /** The most one user may top up through this bank per Beijing day, and withdraw likewise. */
  dailyMaxFen: bigint;
  /** The most one withdrawal may carry, in fen. */
  payoutMaxFen: bigint;
  /** How long one request to the bank may take before its outcome is unknown. */
  requestTimeoutMs: number;
}

/**
 * The banks of the development simulator (`paybao bank-sim`, docs/bank-sim.md) with its limits,
 * the platform's merchant `paybao` at each. Production configures its own.
 */
export function defaultChannelBanks(baseUrl: string): ChannelBankConfig[] {
  const bank = (code: string, name: string, paymentMax: bigint, dailyMax: bigint): ChannelBankConfig => ({
    code,
    name,
    baseUrl,
    merchantId: 'paybao',
    secret: 'paybao-bank-sim-dev-secret',
    paymentMaxFen: paymentMax * 100n,
    dailyMaxFen: dailyMax * 100n,
    payoutMaxFen: 500_000n * 100n,
    requestTimeoutMs: limits.channelRequestTimeoutMs,
  });
  return [
    bank('ICBC', 'Industrial and Commercial Bank of China', 50_000n, 200_000n),
    bank('CMB', 'China Merchants Bank', 20_000n, 50_000n),
    bank('ABC', 'Agricultural Bank of China', 10_000n, 30_000n),
  ];
}
