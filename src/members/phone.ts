/**
 * Phones: a mainland China mobile number (`1` and 10 digits) or any E.164 number (`+`, 8 to 15
 * digits). `+86` followed by a mainland mobile is stored as the bare 11 digits, so that one person
 * cannot register twice by writing the number two ways.
 */
const mainland = /^1\d{10}$/;
const e164 = /^\+[1-9]\d{7,14}$/;

/** The stored form of a phone, or undefined when it is not a phone. Spaces and dashes are ignored. */
export function normalizePhone(input: string): string | undefined {
  const compact = input.replace(/[\s-]/g, '');
  if (mainland.test(compact)) return compact;
  if (!e164.test(compact)) return undefined;
  const national = compact.slice(3);
  return compact.startsWith('+86') && mainland.test(national) ? national : compact;
}

/**
 * The `logon_id` shown to merchants, masked as Alipay masks it: `138****8000` for a mainland
 * mobile; for other numbers the `+`, three digits, stars, and the last four digits.
 */
export function maskPhone(phone: string): string {
  if (mainland.test(phone)) return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
  return `${phone.slice(0, 4)}${'*'.repeat(Math.max(phone.length - 8, 0))}${phone.slice(-4)}`;
}
