/**
 * Amounts as people read them: always ¥ with two decimals and thousands grouped ("¥1,234.50").
 * The API sends yuan as decimal strings; they are formatted as text and never become floats.
 */
export function yuan(amount: string, direction?: 'in' | 'out'): string {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim());
  if (!match) return amount;
  const [, minus = '', whole = '0', fraction = ''] = match;
  const grouped = whole.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = direction === 'in' ? '+' : direction === 'out' ? '-' : minus;
  return `${sign}¥${grouped}.${fraction.padEnd(2, '0')}`;
}

/** A decimal string of yuan as the API takes it ("12.5" → "12.50"), or undefined when it is not one. */
export function amountInput(text: string): string | undefined {
  const match = /^(0|[1-9]\d{0,15})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, whole = '0', fraction = ''] = match;
  if (/^0$/.test(whole) && /^0*$/.test(fraction)) return undefined;
  return `${whole}.${fraction.padEnd(2, '0')}`;
}

/** A decimal string of yuan as fen, exactly ("12.5" → 1250n). */
export function toFen(amount: string): bigint {
  const [whole = '0', fraction = ''] = amount.split('.');
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
}

/** Fen as a decimal string of yuan (1250n → "12.50"). */
export function fromFen(fen: bigint): string {
  const sign = fen < 0n ? '-' : '';
  const abs = fen < 0n ? -fen : fen;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** Adds decimal strings of yuan exactly, answering a decimal string. */
export function sumYuan(amounts: readonly string[]): string {
  return fromFen(amounts.reduce((total, amount) => total + toFen(amount), 0n));
}
