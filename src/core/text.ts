/**
 * Text no field of Paybao may hold: the NUL character (PostgreSQL `text` cannot store it, so it
 * would fail deep in a query) and unpaired UTF-16 surrogates (not characters at all: written to
 * the database they turn silently into U+FFFD, so what was signed or compared is not what is
 * stored). Requests carrying either are refused at the edge, before anything reaches a module.
 */

const unpairedSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when `text` holds a NUL or an unpaired surrogate. */
export const isUnreadableText = (text: string): boolean => text.includes('\u0000') || unpairedSurrogate.test(text);

/**
 * The path (`memo`, `items.0.name`, '' for the value itself) of the first string, object key
 * included, that holds unreadable text; undefined when there is none. Iterative, so that a deeply
 * nested body cannot exhaust the stack.
 */
export function findUnreadableText(value: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value === 'string') {
      if (isUnreadableText(item.value)) return item.path;
      continue;
    }
    if (typeof item.value !== 'object' || item.value === null) continue;
    for (const [key, child] of Object.entries(item.value)) {
      const path = item.path === '' ? key : `${item.path}.${key}`;
      if (isUnreadableText(key)) return path;
      stack.push({ value: child, path });
    }
  }
  return undefined;
}
