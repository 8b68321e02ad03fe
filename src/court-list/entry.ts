import { limits } from '../core/limits.ts';
import { isUnreadableText } from '../core/text.ts';
import { isCalendarDate } from '../core/time.ts';

/**
 * A court list entry's fields, checked, and the pure rules over them: the default expiry, whether
 * an entry is in force on a day, and how a court's whole list differs from the entries in force.
 * Nothing here reads a clock or a table.
 */

/** What the court says of one person in one case. The person is the keyed hash of their identity number. */
export interface EntryFields {
  idSha256: string;
  caseNumber: string;
  name: string;
  court: string;
  /** Beijing days, YYYY-MM-DD: in force from `listingDate`, lapsed from `expiryDate` on. */
  listingDate: string;
  grounds: string;
  expiryDate: string;
}

/** An entry as given (a file's line, an operator's request), before it is checked. */
export interface RawEntry {
  idNumber?: unknown;
  idHash?: unknown;
  name?: unknown;
  caseNumber?: unknown;
  court?: unknown;
  listingDate?: unknown;
  grounds?: unknown;
  /** Absent or empty: `courtListExpiryYearsDefault` years after the listing date. */
  expiryDate?: unknown;
}

/** Why an entry is refused: the field at fault and the words. */
export interface EntryFault {
  param: string;
  reason: string;
}

/** The keyed hash of a plain identity number (src/credit's), or null when it is not a valid number. */
export type HashOf = (idNumber: string) => string | null;

const hashPattern = /^[0-9a-fA-F]{64}$/;
/** Control characters have no place in a name, a court or a case number. */
const controlPattern = /\p{Cc}/u;

function text(value: unknown, param: string, max: number): string | EntryFault {
  const t = typeof value === 'string' ? value.normalize('NFC').trim() : '';
  if (t === '' || [...t].length > max || isUnreadableText(t) || controlPattern.test(t)) {
    return { param, reason: `${param} must be text of 1 to ${max} characters` };
  }
  return t;
}

/**
 * The day `years` after `day` (YYYY-MM-DD); the 29th of February goes to the 28th in a year
 * without one.
 */
export function yearsAfter(day: string, years: number): string {
  const shifted = `${String(Number(day.slice(0, 4)) + years).padStart(4, '0')}${day.slice(4)}`;
  return isCalendarDate(shifted) ? shifted : `${shifted.slice(0, 8)}28`;
}

/**
 * An entry's fields, checked: exactly one of a plain identity number (hashed at once, never kept)
 * and a hash made with the platform's key; text fields of readable characters within their
 * limits; a listing date no later than `today`; an expiry after it (by default the listing date
 * plus `courtListExpiryYearsDefault` years). Answers the first fault instead when there is one.
 */
export function checkEntry(raw: RawEntry, today: string, hashOf: HashOf): EntryFields | EntryFault {
  const idSha256 = identityHash(raw, today, hashOf);
  if (typeof idSha256 !== 'string') return idSha256;
  const name = text(raw.name, 'name', limits.courtListFieldCharsMax);
  if (typeof name !== 'string') return name;
  const caseNumber = text(raw.caseNumber, 'case_number', limits.courtListFieldCharsMax);
  if (typeof caseNumber !== 'string') return caseNumber;
  const court = text(raw.court, 'court', limits.courtListFieldCharsMax);
  if (typeof court !== 'string') return court;
  const grounds = text(raw.grounds, 'grounds', limits.courtListTextCharsMax);
  if (typeof grounds !== 'string') return grounds;
  const listingDate = typeof raw.listingDate === 'string' ? raw.listingDate.trim() : '';
  if (!isCalendarDate(listingDate)) return { param: 'listing_date', reason: 'listing_date must be a day, YYYY-MM-DD' };
  if (listingDate > today) return { param: 'listing_date', reason: `listing_date ${listingDate} is after today` };
  const given = typeof raw.expiryDate === 'string' ? raw.expiryDate.trim() : raw.expiryDate;
  if (given !== undefined && given !== null && given !== '' && (typeof given !== 'string' || !isCalendarDate(given))) {
    return { param: 'expiry_date', reason: 'expiry_date must be a day, YYYY-MM-DD, or empty for the default' };
  }
  const expiryDate =
    typeof given === 'string' && given !== '' ? given : yearsAfter(listingDate, limits.courtListExpiryYearsDefault);
  if (expiryDate <= listingDate) return { param: 'expiry_date', reason: 'expiry_date must be after listing_date' };
  return { idSha256, caseNumber, name, court, listingDate, grounds, expiryDate };
}

function identityHash(raw: RawEntry, today: string, hashOf: HashOf): string | EntryFault {
  const hasNumber = raw.idNumber !== undefined && raw.idNumber !== null;
  const hasHash = raw.idHash !== undefined && raw.idHash !== null;
  if (hasNumber === hasHash) {
    return {
      param: 'id_number',
      reason: 'give exactly one of id_number (plain) and id_hash (hashed with the platform’s key)',
    };
  }
  if (hasHash) {
    if (typeof raw.idHash !== 'string' || !hashPattern.test(raw.idHash.trim())) {
      return {
        param: 'id_hash',
        reason: 'id_hash must be 64 hexadecimal digits (HMAC-SHA256 under the platform’s key)',
      };
    }
    return raw.idHash.trim().toLowerCase();
  }
  const hash = typeof raw.idNumber === 'string' ? hashOf(raw.idNumber) : null;
  // The number itself is never repeated in a reason: a report is printed and may be kept.
  if (hash === null) {
    return { param: 'id_number', reason: `id_number is not a valid 18-character identity number (as of ${today})` };
  }
  return hash;
}

/** The fields a change compares (the person and the case are the entry's key). */
const compared = ['name', 'court', 'listingDate', 'grounds', 'expiryDate'] as const;

/** An entry's key: the person and the case. */
export const entryKey = (e: { idSha256: string; caseNumber: string }) => `${e.idSha256}\u0000${e.caseNumber}`;

/** How a court's whole list differs from the entries not removed (`current`). */
export interface ListDiff<C> {
  added: EntryFields[];
  updated: { current: C; fields: EntryFields }[];
  /** Not on the court's list any more. */
  removed: C[];
  unchanged: number;
}

/**
 * The changes that make the entries not removed equal to the court's list: a line whose person
 * and case are new is added, one whose other fields differ is updated, an entry the list lacks is
 * removed. The list holds each key once (the file's reader refuses a repeated one).
 */
export function diffList<C extends EntryFields>(current: readonly C[], list: readonly EntryFields[]): ListDiff<C> {
  const byKey = new Map(current.map((c) => [entryKey(c), c]));
  const out: ListDiff<C> = { added: [], updated: [], removed: [], unchanged: 0 };
  const seen = new Set<string>();
  for (const fields of list) {
    const key = entryKey(fields);
    seen.add(key);
    const found = byKey.get(key);
    if (!found) out.added.push(fields);
    else if (compared.some((f) => found[f] !== fields[f])) out.updated.push({ current: found, fields });
    else out.unchanged++;
  }
  for (const [key, c] of byKey) if (!seen.has(key)) out.removed.push(c);
  return out;
}
