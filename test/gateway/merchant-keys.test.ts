/**
 * The merchant key pair as README's "Making the merchant key pair" makes it: the exact openssl
 * commands, run for real, then the public key registered as `paybao apps create` registers it
 * and the private key handed to the real `alipay-sdk`. A PKCS#8 key (`openssl genpkey`) signs
 * requests Paybao accepts when the SDK is told `keyType: 'PKCS8'`, and the SDK cannot sign with
 * it when not told; a PKCS#1 key (`openssl genrsa -traditional`) works with the SDK's default.
 * "Accepts" means the gateway verified the request's signature and answered the business
 * question (no such trade), and the SDK verified the signature of that answer.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AlipaySdk, type AlipaySdkConfig } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/platform.ts';
import { buildPlatformApp } from '../../src/server/platform-app.ts';
import { freshPlatform } from '../support/engine.ts';
import { listen } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'paybao-merchant-keys-'));
const openssl = (...args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
let platform: Platform;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  platform = await freshPlatform();
  app = await buildPlatformApp({ platform, publicUrl: () => base });
  base = await listen(app);
}, 600_000);

afterAll(async () => {
  await app.close();
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Registers the public key file as `paybao apps create --merchant-public-key-file` does. */
async function sdkWith(publicFile: string, privateFile: string, config: Partial<AlipaySdkConfig> = {}) {
  const created = await platform.members.createApp({
    name: `Shop ${publicFile}`,
    merchantPublicKeyPem: readFileSync(join(dir, publicFile), 'utf8'),
  });
  return new AlipaySdk({
    appId: created.appId,
    privateKey: readFileSync(join(dir, privateFile), 'utf8'),
    alipayPublicKey: created.alipayPublicKey,
    gateway: `${base}/gateway.do`,
    endpoint: base,
    camelcase: false,
    ...config,
  });
}

const query = (sdk: AlipaySdk) =>
  sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: 'no-such-order' } }, { validateSign: true });
const answeredUnknownTrade = { code: '40004', sub_code: 'ACQ.TRADE_NOT_EXIST' };

// Timeouts only guard against a hang: RSA key generation and a platform's start on a busy machine
// take what they take.
describe("the README's merchant key pair with the real alipay-sdk", { timeout: 600_000 }, () => {
  it('a PKCS#8 key from openssl genpkey signs with keyType PKCS8, and not without it', async () => {
    await openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'merchant-private.pem');
    await openssl('pkey', '-in', 'merchant-private.pem', '-pubout', '-out', 'merchant-public.pem');
    expect(readFileSync(join(dir, 'merchant-private.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);

    const told = await sdkWith('merchant-public.pem', 'merchant-private.pem', { keyType: 'PKCS8' });
    expect(await query(told)).toMatchObject(answeredUnknownTrade);

    const untold = await sdkWith('merchant-public.pem', 'merchant-private.pem');
    // The SDK wraps the PKCS#8 body in PKCS#1 armour, which OpenSSL cannot decode.
    await expect(query(untold)).rejects.toThrow(/DECODER|unsupported/);
  });

  it('a PKCS#1 key from openssl genrsa -traditional signs with the default keyType', async () => {
    await openssl('genrsa', '-traditional', '-out', 'merchant-private-pkcs1.pem', '2048');
    await openssl('rsa', '-in', 'merchant-private-pkcs1.pem', '-pubout', '-out', 'merchant-public-pkcs1.pem');
    expect(readFileSync(join(dir, 'merchant-private-pkcs1.pem'), 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);

    const sdk = await sdkWith('merchant-public-pkcs1.pem', 'merchant-private-pkcs1.pem');
    expect(await query(sdk)).toMatchObject(answeredUnknownTrade);
  });
});
