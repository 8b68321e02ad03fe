import { createHmac } from 'node:crypto';

/**
 * The 18-character PRC resident identity number (GB 11643-1999): six digits of region, the birth
 * date as YYYYMMDD, a three-digit sequence, and a check character computed from the first 17
 * (ISO 7064 MOD 11-2: Σ digitᵢ × 2^(17−i) mod 11, mapped to `10X98765432`).
 */
const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const checkCharacters = '10X98765432';

/** The check character of the first 17 digits of an identity number. */
export function idCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += Number(first17[i]) * (weights[i] ?? 0);
  return checkCharacters[sum % checkCharacters.length] ?? '';
}

/**
 * The identity number in its one stored form (upper-case `X`), or null when it is not a valid
 * 18-character number: the shape, a real birth date no later than `today` (YYYY-MM-DD), and the
 * check character.
 */
export function normalizeIdNumber(text: string, today: string): string | null {
  const id = text.trim().toUpperCase();
  if (!/^[1-9]\d{16}[\dX]$/.test(id)) return null;
  const birth = `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
  const at = new Date(`${birth}T00:00:00Z`);
  if (Number.isNaN(at.getTime()) || at.toISOString().slice(0, 10) !== birth || birth > today) return null;
  return idCheckCharacter(id.slice(0, 17)) === id[17] ? id : null;
}

/**
 * What Paybao keeps of an identity number, and what the court list's importer computes to match
 * (docs/credit.md): HMAC-SHA256 keyed with the platform's secret `PAYBAO_ID_HASH_KEY`, over the
 * UTF-8 text `paybao-id-v1:` followed by the normalised number (18 characters, `X` upper-case), as
 * lower-case hex. A keyed hash, not a salted one per user: the same number must give the same
 * hash wherever it is computed, and without the key the 10¹⁰-odd valid numbers cannot be tried.
 */
export function idNumberHash(normalizedId: string, key: string): string {
  return createHmac('sha256', key).update(`paybao-id-v1:${normalizedId}`, 'utf8').digest('hex');
}
