/**
 * A Bloom filter of strings: `has` is false only for what was never added, and true for what was
 * (and for about `falsePositiveRate` of the rest). Sized for `capacity` entries; past that the
 * false positives grow. Double hashing of two FNV-1a hashes (Kirsch and Mitzenmacher), which is
 * as good as k independent hashes for this use and costs two passes over the string.
 */
export class BloomFilter {
  readonly #bits: Uint32Array;
  readonly #size: number;
  readonly #hashes: number;

  constructor(capacity: number, falsePositiveRate: number) {
    const n = Math.max(1, capacity);
    const bits = Math.ceil((-n * Math.log(falsePositiveRate)) / Math.LN2 ** 2);
    this.#size = Math.max(32, bits);
    this.#hashes = Math.max(1, Math.round((this.#size / n) * Math.LN2));
    this.#bits = new Uint32Array(Math.ceil(this.#size / 32));
  }

  add(value: string): void {
    const [h1, h2] = hashes(value);
    for (let i = 0; i < this.#hashes; i++) {
      const bit = (h1 + i * h2) % this.#size;
      this.#bits[bit >>> 5] = (this.#bits[bit >>> 5] ?? 0) | (1 << (bit & 31));
    }
  }

  has(value: string): boolean {
    const [h1, h2] = hashes(value);
    for (let i = 0; i < this.#hashes; i++) {
      const bit = (h1 + i * h2) % this.#size;
      if (((this.#bits[bit >>> 5] ?? 0) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/** Two 32-bit FNV-1a hashes of the string's UTF-16 units, with different offsets; the second odd. */
function hashes(value: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return [a >>> 0, (b | 1) >>> 0];
}
