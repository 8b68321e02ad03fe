import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import type { Selectable } from 'kysely';
import { assert } from '../core/assert.ts';
import type { Clock } from '../core/clock.ts';
import { type Db, type Queryable, typed } from '../core/db/index.ts';
import { id, u128FromUuid, uuidFromU128 } from '../core/ids.ts';
import { limits } from '../core/limits.ts';
import type { MemberTables } from './tables.ts';

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

type KeyRow = Selectable<MemberTables['members_platform_keys']>;

/**
 * A fresh RSA-2048 pair. With a passphrase the private key is PKCS#8 encrypted under it
 * (OpenSSL's PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC), so the database never holds it in clear.
 */
function generate(passphrase: string | undefined): Promise<{ publicKeyPem: string; privateKeyPem: string }> {
  return new Promise((resolve, reject) => {
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: passphrase
          ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }
          : { type: 'pkcs8', format: 'pem' },
      },
      (error, publicKeyPem, privateKeyPem) => (error ? reject(error) : resolve({ publicKeyPem, privateKeyPem })),
    );
  });
}

const encryptedPem = '-----BEGIN ENCRYPTED PRIVATE KEY-----';

/** Reads a stored private key; one encrypted under another passphrase, or with none given, is a startup error. */
function readPrivateKey(row: KeyRow, passphrase: string | undefined): KeyObject {
  const encrypted = row.private_key_pem.startsWith(encryptedPem);
  if (encrypted && !passphrase)
    throw new Error(
      "the platform's private keys are encrypted: set PAYBAO_KEY_PASSPHRASE to the passphrase they were stored with",
    );
  try {
    return createPrivateKey(encrypted ? { key: row.private_key_pem, format: 'pem', passphrase } : row.private_key_pem);
  } catch {
    throw new Error(`PAYBAO_KEY_PASSPHRASE does not decrypt the platform's private key ${row.id}`);
  }
}

/** Inserts a fresh active key; a racing insert (the unique index on the active key) loses quietly. */
async function insertKey(q: Queryable, pair: { publicKeyPem: string; privateKeyPem: string }, nowNs: bigint) {
  await typed<MemberTables>(q)
    .insertInto('members_platform_keys')
    .values({
      id: uuidFromU128(id()),
      public_key_pem: pair.publicKeyPem,
      private_key_pem: pair.privateKeyPem,
      status: 'active',
      created_at_ns: nowNs,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * The platform's key pairs in the database. The first caller generates one; racing processes
 * both generate, and the unique index on the active key lets exactly one insert win. A process
 * keeps what it read for `platformKeysCacheMs`, since another process may rotate.
 */
export class PlatformKeyStore {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #passphrase: string | undefined;
  #cached: { keys: PlatformKeys; atMs: number } | undefined;
  /** Private keys already read, by row id and stored text: a reload does not decrypt them again. */
  readonly #parsed = new Map<string, { pem: string; key: KeyObject }>();

  /**
   * `passphrase`: private keys are stored encrypted under it, and any stored in clear (before a
   * passphrase was set) are encrypted in place on the first load.
   */
  constructor(db: Db, clock: Clock, passphrase?: string) {
    this.#db = db;
    this.#clock = clock;
    this.#passphrase = passphrase;
  }

  async keys(): Promise<PlatformKeys> {
    const cached = this.#cached;
    if (cached && Date.now() - cached.atMs < limits.platformKeysCacheMs) return cached.keys;
    let keys = await this.#load();
    if (!keys) {
      const pair = await generate(this.#passphrase);
      await insertKey(this.#db, pair, this.#clock.nowNs());
      keys = await this.#load();
    }
    assert(keys, 'a platform key is active after inserting one');
    this.#cached = { keys, atMs: Date.now() };
    return keys;
  }

  /** Retires the active key and makes a fresh one active, in one transaction. */
  async rotate(): Promise<PlatformKeys> {
    const pair = await generate(this.#passphrase);
    await this.#db.transaction(async (tx) => {
      const now = this.#clock.nowNs();
      await typed<MemberTables>(tx)
        .updateTable('members_platform_keys')
        .set({ status: 'retired', retired_at_ns: now })
        .where('status', '=', 'active')
        .execute();
      await insertKey(tx, pair, now);
    });
    this.#cached = undefined;
    return this.keys();
  }

  async #load(): Promise<PlatformKeys | undefined> {
    const rows = await typed<MemberTables>(this.#db)
      .selectFrom('members_platform_keys')
      .selectAll()
      .orderBy('created_at_ns', 'desc')
      .orderBy('id', 'desc')
      .execute();
    const all: PlatformKey[] = [];
    for (const r of rows) {
      const privateKey = this.#privateKey(r);
      if (this.#passphrase && !r.private_key_pem.startsWith(encryptedPem)) await this.#seal(r, privateKey);
      all.push({
        keyId: u128FromUuid(r.id),
        publicKeyPem: r.public_key_pem,
        privateKey,
        status: r.status,
        createdAtNs: r.created_at_ns,
        retiredAtNs: r.retired_at_ns ?? undefined,
      });
    }
    const active = all.find((k) => k.status === 'active');
    return active && { active, retired: all.filter((k) => k.status === 'retired') };
  }

  #privateKey(row: KeyRow): KeyObject {
    const known = this.#parsed.get(row.id);
    if (known?.pem === row.private_key_pem) return known.key;
    const key = readPrivateKey(row, this.#passphrase);
    this.#parsed.set(row.id, { pem: row.private_key_pem, key });
    return key;
  }

  /** Encrypts a key stored in clear under the passphrase (compare-and-set: one process does it). */
  async #seal(row: KeyRow, key: KeyObject): Promise<void> {
    const sealed = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: this.#passphrase });
    await typed<MemberTables>(this.#db)
      .updateTable('members_platform_keys')
      .set({ private_key_pem: sealed.toString() })
      .where('id', '=', row.id)
      .where('private_key_pem', '=', row.private_key_pem)
      .execute();
  }
}
