/**
 * Regions by network, as operators name them (`10.1.0.0/16` → `hangzhou`): the longest network
 * holding an address names its region. IPv4 only (an IPv4-mapped IPv6 address counts as its
 * IPv4); any other address has no region, and the region rule stays silent on it.
 */
export class Regions {
  readonly #networks: { base: number; mask: number; bits: number; region: string }[];

  constructor(rows: readonly { network: string; region: string }[]) {
    this.#networks = rows
      .map((r) => {
        const [address = '', bits = '32'] = r.network.split('/');
        const base = ipv4(address);
        const width = Number(bits);
        return base === undefined ? undefined : { base, mask: maskOf(width), bits: width, region: r.region };
      })
      .filter((n) => n !== undefined)
      .sort((a, b) => b.bits - a.bits);
  }

  /** The region of an address, when a network holds it. */
  of(address: string): string | undefined {
    if (this.#networks.length === 0) return undefined;
    const n = ipv4(address.startsWith('::ffff:') ? address.slice(7) : address);
    if (n === undefined) return undefined;
    return this.#networks.find((net) => (n & net.mask) >>> 0 === net.base)?.region;
  }

  /** A network as operators write it, normalised (host bits cleared); undefined when it is none. */
  static parseNetwork(text: string): string | undefined {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text);
    if (!m) return undefined;
    const base = ipv4(m[1] ?? '');
    const bits = Number(m[2]);
    if (base === undefined || bits > 32) return undefined;
    const masked = (base & maskOf(bits)) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.')}/${bits}`;
  }
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

const maskOf = (bits: number) => (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0);
