/**
 * A map that keeps at most about `max` entries, forgetting the oldest half at a time: entries go
 * into a young generation; when it holds `max / 2`, it becomes the old one and the old one is
 * dropped. Every operation is O(1). (Evicting one entry at a time from the front of a JavaScript
 * Map is not: the deleted slots it skips pile up until the table is rebuilt, and a full cache
 * then slows every insertion down.)
 */
export class BoundedMap<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();
  readonly #half: number;

  constructor(max: number) {
    this.#half = Math.max(1, Math.floor(max / 2));
  }

  get(key: K): V | undefined {
    return this.#young.has(key) ? this.#young.get(key) : this.#old.get(key);
  }

  has(key: K): boolean {
    return this.#young.has(key) || this.#old.has(key);
  }

  set(key: K, value: V): void {
    this.#old.delete(key);
    this.#young.set(key, value);
    if (this.#young.size >= this.#half) {
      this.#old = this.#young;
      this.#young = new Map();
    }
  }

  delete(key: K): void {
    this.#young.delete(key);
    this.#old.delete(key);
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }
}
