/**
 * The platform's private keys at rest: with `PAYBAO_KEY_PASSPHRASE` they are stored as encrypted
 * PKCS#8, keys stored in clear before the passphrase was set are encrypted on the first load,
 * rotation keeps encrypting, and a missing or wrong passphrase is a clear error, not a platform
 * that signs with nothing.
 */
import { createVerify, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openPlatform, type Platform } from '../../src/platform.ts';
import { databaseUrl, engine, freshSchema } from '../support/engine.ts';

const passphrase = 'correct horse battery staple';
// One database reopened by every step, as a server restarted with other settings.
const databaseSchema = freshSchema();
const dataDir = engine === 'pglite' ? mkdtempSync(join(tmpdir(), 'paybao-keys-')) : undefined;

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function withPlatform<T>(keyPassphrase: string | undefined, use: (p: Platform) => Promise<T>): Promise<T> {
  const platform = await openPlatform({ databaseUrl, databaseSchema, dataDir, keyPassphrase });
  try {
    return await use(platform);
  } finally {
    await platform.close();
  }
}

async function storedPems(p: Platform): Promise<string[]> {
  const rows = await p.db.query<{ private_key_pem: string }>(
    'select private_key_pem from members_platform_keys order by created_at_ns',
  );
  return rows.map((r) => r.private_key_pem);
}

/** Whether a key signs what its public half verifies. */
function signsFor(key: { privateKey: Parameters<typeof sign>[2]; publicKeyPem: string }): boolean {
  const signature = sign('sha256', Buffer.from('paybao'), key.privateKey);
  return createVerify('sha256').update('paybao').verify(key.publicKeyPem, signature);
}

describe('platform keys at rest', () => {
  it('encrypts keys stored in clear once a passphrase is set, and every key made after', async () => {
    const first = await withPlatform(undefined, async (p) => {
      const keys = await p.members.platformKeys();
      expect((await storedPems(p))[0]).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      return keys.active.publicKeyPem;
    });

    const second = await withPlatform(passphrase, async (p) => {
      const keys = await p.members.platformKeys();
      expect(keys.active.publicKeyPem).toBe(first);
      expect(signsFor(keys.active)).toBe(true);
      expect((await storedPems(p))[0]).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      const rotated = await p.members.rotatePlatformKeys();
      expect(rotated.retired.map((k) => k.publicKeyPem)).toEqual([first]);
      const pems = await storedPems(p);
      expect(pems).toHaveLength(2);
      for (const pem of pems) expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      for (const pem of pems) expect(pem).not.toContain('BEGIN PRIVATE KEY');
      return rotated.active.publicKeyPem;
    });

    await withPlatform(passphrase, async (p) => {
      const keys = await p.members.platformKeys();
      expect(keys.active.publicKeyPem).toBe(second);
      expect(keys.retired.map((k) => k.publicKeyPem)).toEqual([first]);
      expect(signsFor(keys.active)).toBe(true);
      expect(signsFor(keys.retired[0] as (typeof keys.retired)[0])).toBe(true);
    });
  });

  it('refuses to start signing without the passphrase, or with another one', async () => {
    await withPlatform(undefined, async (p) => {
      await expect(p.members.platformKeys()).rejects.toThrow(/encrypted: set PAYBAO_KEY_PASSPHRASE/);
    });
    await withPlatform('not the passphrase at all', async (p) => {
      await expect(p.members.platformKeys()).rejects.toThrow(/PAYBAO_KEY_PASSPHRASE does not decrypt/);
    });
  });

  it('takes the passphrase from PAYBAO_KEY_PASSPHRASE, and refuses a short one', () => {
    expect(loadConfig({ PAYBAO_KEY_PASSPHRASE: passphrase }).keyPassphrase).toBe(passphrase);
    expect(loadConfig({}).keyPassphrase).toBeUndefined();
    expect(() => loadConfig({ PAYBAO_KEY_PASSPHRASE: 'short' })).toThrow(/at least 16 characters/);
  });
});
