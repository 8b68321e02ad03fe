/**
 * Money is a bigint of minor units (fen) inside, a decimal string at the edges. Never a float.
 */
const decimalPattern = /^(0|[1-9]\d{0,15})(\.\d{1,2})?$/;

/** "88.8" → 8880n. Returns undefined for anything that is not a plain decimal with ≤ 2 places. */
export function parseAmount(text: string): bigint | undefined {
  if (!decimalPattern.test(text)) return undefined;
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
}

/** 8880n → "88.80". */
export function formatAmount(fen: bigint): string {
  const sign = fen < 0n ? '-' : '';
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** The smaller of two amounts (Math.min takes numbers only). */
export const minFen = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** losses / volume per 100,000, with four decimals ("0.4200"), in integers: no float holds money. */
export function perHundredThousand(lossFen: bigint, volumeFen: bigint): string {
  const scaled = volumeFen === 0n ? 0n : (lossFen * 100_000n * 10_000n) / volumeFen;
  return `${scaled / 10_000n}.${(scaled % 10_000n).toString().padStart(4, '0')}`;
}
