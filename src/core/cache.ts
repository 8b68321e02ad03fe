import { BoundedMap } from './bounded-map.ts';

/**
 * Remembers what an async lookup found: each found value for `ttlMs`, at most `max` of them, the
 * oldest half leaving first (`BoundedMap`). Misses (null) are not remembered, so a thing created a moment ago is
 * found at once. For data that rarely or never changes: apps, a member's wallet account.
 */
export function cached<K, V>(
  load: (key: K) => Promise<V | null>,
  options: { max: number; ttlMs: number },
): (key: K) => Promise<V | null> {
  const entries = new BoundedMap<K, { value: V; expiresAtMs: number }>(options.max);
  return async (key) => {
    const now = performance.now();
    const hit = entries.get(key);
    if (hit && hit.expiresAtMs > now) return hit.value;
    entries.delete(key);
    const value = await load(key);
    if (value === null) return null;
    entries.set(key, { value, expiresAtMs: now + options.ttlMs });
    return value;
  };
}
