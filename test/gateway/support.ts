/**
 * A running gateway for the tests: a Fastify app listening on a random port with stub methods, and
 * key pairs for the platform and two merchant apps.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlipaySdk, type AlipaySdkConfig } from 'alipay-sdk';
import type { FastifyInstance } from 'fastify';
import type { GatewayMethod, GatewayOptions } from '../../src/gateway/index.ts';
import { createApp, createGateway, mountGateway } from '../../src/server/index.ts';

export interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function keyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export const appId = '2026000000000001';

/** Echoes what the method saw, so that tests can check what crossed the wire. */
export const echo: GatewayMethod = async (ctx) => ({
  body: {
    trade_no: '2026111122001400000000000001',
    out_trade_no: ctx.bizContent.out_trade_no ?? null,
    subject: ctx.bizContent.subject ?? null,
    trade_status: 'WAIT_BUYER_PAY',
    total_amount: '88.88',
    seen_app_id: ctx.appId,
    seen_protocol: ctx.protocol,
    seen_method: ctx.method,
    seen_notify_url: ctx.params.notify_url ?? null,
  },
});

export const notFound: GatewayMethod = async () => ({
  code: '40004',
  msg: 'Business Failed',
  subCode: 'ACQ.TRADE_NOT_EXIST',
  subMsg: '交易不存在',
});

export const broken: GatewayMethod = async () => {
  throw new Error('the database is on fire');
};

export const stubMethods: Record<string, GatewayMethod> = {
  'alipay.trade.query': echo,
  'alipay.trade.create': echo,
  'alipay.data.dataservice.bill.downloadurl.query': async (ctx) => ({
    body: { bill_download_url: `https://paybao.test/bills/${String(ctx.bizContent.bill_date)}.csv` },
  }),
  'alipay.trade.close': notFound,
  'alipay.trade.cancel': broken,
};

export function gatewayOptions(
  platform: KeyPair,
  merchant: KeyPair,
  extra: Partial<GatewayOptions> = {},
): GatewayOptions {
  return {
    resolveApp: async (id) => (id === appId ? { merchantPublicKey: merchant.publicKeyPem } : null),
    platformKeys: { privateKey: platform.privateKeyPem, publicKeyPem: platform.publicKeyPem },
    methods: stubMethods,
    onMethodError: () => {},
    ...extra,
  };
}

/** A bare Fastify app with only the gateway, listening on 127.0.0.1 at a random port. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

export function gatewayApp(options: GatewayOptions): FastifyInstance {
  const gateway = createGateway(options, () => app.log);
  const app: FastifyInstance = createApp({ gateway });
  mountGateway(app, gateway);
  return app;
}

export function sdkFor(
  base: string,
  privateKeyPem: string,
  alipayPublicKey: string,
  config: Partial<AlipaySdkConfig> = {},
) {
  return new AlipaySdk({
    appId,
    privateKey: privateKeyPem,
    alipayPublicKey,
    gateway: `${base}/gateway.do`,
    endpoint: base,
    ...config,
  });
}

/** A merchant's notify endpoint: answers `success` to every form and keeps what it got. */
export async function startNotifySink(): Promise<{
  url: string;
  received: Array<Record<string, string>>;
  close(): Promise<void>;
}> {
  const received: Array<Record<string, string>> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push(Object.fromEntries(new URLSearchParams(body)));
      res.end('success');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
