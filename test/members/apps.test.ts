/**
 * Merchant apps and the platform key pair as a spec: an app gets Alipay-style ids, a merchant
 * with a wallet, and the platform's public key; a key that is not an RSA public key is refused
 * and nothing is written; the key pair is generated once and rotates with the old key retired.
 */
import { constants, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { AccountCode } from '../../src/core/ledger-codes.ts';
import type { MembersErrorCode } from '../../src/members/index.ts';
import { usePlatform } from '../support/engine.ts';

const clock = new ManualClock();
const platformOf = usePlatform({ clock });

const members = () => platformOf().members;
const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const merchantPem = merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function rejects(promise: Promise<unknown>, code: MembersErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'MembersError', code });
}

async function counts(): Promise<number[]> {
  const tables = ['members', 'members_apps', 'ledger_accounts'];
  return Promise.all(
    tables.map(
      async (t) => (await platformOf().db.query<{ n: number }>(`select count(*)::int n from ${t}`))[0]?.n ?? -1,
    ),
  );
}

describe('apps', () => {
  it('registers an app for a new merchant with a wallet, and hands out the platform public key', async () => {
    const created = await members().createApp({
      name: 'Coffee Shop',
      merchantPublicKeyPem: merchantPem,
      notifyUrl: 'https://merchant.example/notify',
    });
    expect(created.appId).toMatch(/^2021\d{12}$/);
    expect(created.sellerId).toMatch(/^2088\d{12}$/);
    expect(created.alipayPublicKey).toBe((await members().platformKeys()).active.publicKeyPem);
    expect(createPublicKey(created.alipayPublicKey).asymmetricKeyDetails?.modulusLength).toBe(2048);

    const app = await members().getApp(created.appId);
    expect(app).toMatchObject({
      appId: created.appId,
      sellerId: created.sellerId,
      name: 'Coffee Shop',
      merchantPublicKeyPem: merchantPem,
      notifyUrl: 'https://merchant.example/notify',
    });
    // The stored key verifies what the merchant's private key signs.
    const signature = sign('sha256', Buffer.from('a=1&b=2'), merchant.privateKey);
    expect(verify('sha256', Buffer.from('a=1&b=2'), app.merchantPublicKey, signature)).toBe(true);

    const seller = await members().getMember(created.sellerId);
    expect(seller).toMatchObject({ kind: 'merchant', name: 'Coffee Shop', logonId: undefined });
    const [wallet] = await platformOf().ledger.lookupAccounts([seller.walletAccountId]);
    expect(wallet?.code).toBe(AccountCode.merchantWallet);
  });

  it('takes the bare base64 key and PKCS#1 PEM too, and stores SPKI PEM', async () => {
    const bare = merchantPem.replace(/-----[A-Z ]+-----|\s/g, '');
    const pkcs1 = merchant.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    for (const merchantPublicKeyPem of [bare, pkcs1]) {
      const { appId } = await members().createApp({ name: 'Tea', merchantPublicKeyPem });
      expect((await members().getApp(appId)).merchantPublicKeyPem).toBe(merchantPem);
    }
  });

  it('adds apps to an existing merchant', async () => {
    const first = await members().createApp({ name: 'Shop', merchantPublicKeyPem: merchantPem });
    const second = await members().createApp({
      name: 'Shop mini-program',
      merchantPublicKeyPem: merchantPem,
      sellerId: first.sellerId,
    });
    expect(second.sellerId).toBe(first.sellerId);
    expect(second.appId).not.toBe(first.appId);
  });

  it('refuses garbage, private, non-RSA and short keys, bad names and URLs, and writes nothing', async () => {
    await members().platformKeys(); // generated on first use: not part of what must stay unwritten
    const before = await counts();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' });
    const priv = merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const key of ['', 'garbage', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', priv, ec, short]) {
      await rejects(
        members().createApp({ name: 'X', merchantPublicKeyPem: key.toString() }),
        'merchant_public_key_invalid',
      );
    }
    await rejects(members().createApp({ name: '  ', merchantPublicKeyPem: merchantPem }), 'app_name_invalid');
    await rejects(
      members().createApp({ name: 'x'.repeat(129), merchantPublicKeyPem: merchantPem }),
      'app_name_invalid',
    );
    for (const notifyUrl of ['not a url', 'ftp://merchant.example/notify', `https://e.com/${'x'.repeat(1024)}`]) {
      await rejects(
        members().createApp({ name: 'X', merchantPublicKeyPem: merchantPem, notifyUrl }),
        'notify_url_invalid',
      );
    }
    await rejects(
      members().createApp({ name: 'X', merchantPublicKeyPem: merchantPem, sellerId: '2088000000000000' }),
      'merchant_not_found',
    );
    expect(await counts()).toEqual(before);
    await rejects(members().getApp('2021000000000000'), 'app_not_found');
  });
});

describe('platform keys', () => {
  it('keeps one active RSA-2048 pair, and rotation retires it but keeps it listed', async () => {
    const first = await members().platformKeys();
    expect(await members().platformKeys()).toEqual(first);
    expect(first.active.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const data = Buffer.from('alipay_trade_pay_response');
    const signature = sign('sha256', data, first.active.privateKey);
    expect(
      verify('sha256', data, { key: first.active.publicKeyPem, padding: constants.RSA_PKCS1_PADDING }, signature),
    ).toBe(true);

    const rotated = await members().rotatePlatformKeys();
    expect(rotated.active.keyId).not.toBe(first.active.keyId);
    expect(rotated.active.publicKeyPem).not.toBe(first.active.publicKeyPem);
    expect(rotated.retired.map((k) => k.keyId)).toContain(first.active.keyId);
    expect(rotated.retired.find((k) => k.keyId === first.active.keyId)?.status).toBe('retired');

    const { alipayPublicKey } = await members().createApp({
      name: 'After rotation',
      merchantPublicKeyPem: merchantPem,
    });
    expect(alipayPublicKey).toBe(rotated.active.publicKeyPem);
  });
});
