import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { id, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';

/** One of the platform's RSA-2048 key pairs. */
export interface PlatformKey {
  keyId: bigint;
  /** SPKI PEM: what merchants configure as `alipayPublicKey`. */
  publicKeyPem: string;
  /** Signs gateway responses and notifications; never leaves the process. */
  privateKey: KeyObject;
  status: 'active' | 'retired';
  createdAtNs: bigint;
  retiredAtNs: bigint | undefined;
}

/** The active key, and the retired ones newest first. */
export interface PlatformKeys {
  active: PlatformKey;
  retired: PlatformKey[];
}

interface KeyRow {
  id: string;
  public_key_pem: string;
  private_key_pem: string;
  status: 'active' | 'retired';
  created_at_ns: bigint;
  retired_at_ns: bigint | null;
}

function generate(): Promise<{ publicKeyPem: string; privateKeyPem: string }> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      },
      (error, publicKeyPem, privateKeyPem) => (error ? reject(error) : resolve({ publicKeyPem, privateKeyPem })),
    );
  });
}

const insertKey = `insert into members_platform_keys (id, public_key_pem, private_key_pem, status, created_at_ns)
  values ($1, $2, $3, 'active', $4) on conflict do nothing`;

/**
 * The platform's key pairs in the database. The first caller generates one; racing processes
 * both generate, and the unique index on the active key lets exactly one insert win. A process
 * keeps what it read for `platformKeysCacheMs`, since another process may rotate.
 */
export class PlatformKeyStore {
  readonly #db: Db;
  readonly #clock: Clock;
  #cached: { keys: PlatformKeys; atMs: number } | undefined;
  constructor(db: Db, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async keys(): Promise<PlatformKeys> {
    const cached = this.#cached;
    if (cached && Date.now() - cached.atMs < limits.platformKeysCacheMs) return cached.keys;
    let keys = await this.#load();
    if (!keys) {
      const pair = await generate();
      await this.#db.query(insertKey, [
        uuidFromU128(id()),
        pair.publicKeyPem,
        pair.privateKeyPem,
        this.#clock.nowNs().toString(),
      ]);
      keys = await this.#load();
    }
    if (!keys) throw new Error('assertion: a platform key is active after inserting one');
    this.#cached = { keys, atMs: Date.now() };
    return keys;
  }

  /** Retires the active key and makes a fresh one active, in one transaction. */
  async rotate(): Promise<PlatformKeys> {
    const pair = await generate();
    await this.#db.transaction(async (tx) => {
      const now = this.#clock.nowNs().toString();
      await tx.query(
        `update members_platform_keys set status = 'retired', retired_at_ns = $1 where status = 'active'`,
        [now],
      );
      await tx.query(insertKey, [uuidFromU128(id()), pair.publicKeyPem, pair.privateKeyPem, now]);
    });
    this.#cached = undefined;
    return this.keys();
  }

  async #load(): Promise<PlatformKeys | undefined> {
    const rows = await this.#db.query<KeyRow>(
      'select * from members_platform_keys order by created_at_ns desc, id desc',
    );
    const all = rows.map(
      (r): PlatformKey => ({
        keyId: u128FromUuid(r.id),
        publicKeyPem: r.public_key_pem,
        privateKey: createPrivateKey(r.private_key_pem),
        status: r.status,
        createdAtNs: r.created_at_ns,
        retiredAtNs: r.retired_at_ns ?? undefined,
      }),
    );
    const active = all.find((k) => k.status === 'active');
    return active && { active, retired: all.filter((k) => k.status === 'retired') };
  }
}
