import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { signNotification } from '../gateway/index.ts';
import { isMembersError } from '../members/index.ts';
import type { Platform } from '../platform.ts';
import type { NotificationChannel } from '../trades/index.ts';
import { tradeMethods } from './alipay-methods.ts';
import { buildApp } from './app.ts';
import { registerCashier } from './cashier.ts';
import type { Metrics } from './metrics.ts';

export interface PlatformAppOptions {
  platform: Platform;
  logger?: FastifyBaseLogger;
  metrics?: Metrics;
  /** Where buyers reach this server (QR codes point there); known once it listens. */
  publicUrl: () => string;
}

/**
 * The whole HTTP surface of the platform: health and metrics, the Alipay-compatible gateway with
 * the trade methods, and the cashier page. The platform's active key signs everything.
 */
export async function buildPlatformApp(options: PlatformAppOptions): Promise<FastifyInstance> {
  const { platform } = options;
  const { members, trades } = platform;
  const key = (await members.platformKeys()).active;
  const app = buildApp({
    platform,
    logger: options.logger,
    metrics: options.metrics,
    gateway: {
      resolveApp: async (appId) => {
        try {
          return { merchantPublicKeyPem: (await members.getApp(appId)).merchantPublicKeyPem };
        } catch (error) {
          if (isMembersError(error)) return null;
          throw error;
        }
      },
      platformKeys: {
        privateKeyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKeyPem: key.publicKeyPem,
      },
      methods: tradeMethods({ trades, members, publicUrl: options.publicUrl }),
    },
  });
  await registerCashier(app, { trades, members, signReturn: (params) => signNotification(params, key.privateKey) });
  return app;
}

/** Where trade notifications go: the app's notify URL, signed with the platform's key. */
export function notificationChannel(platform: Platform, privateKey: KeyObject): NotificationChannel {
  return {
    notifyUrlOf: async (appId) => (await platform.members.getApp(appId).catch(() => null))?.notifyUrl ?? null,
    sign: (form) => signNotification({ charset: 'utf-8', version: '1.0', ...form }, privateKey),
  };
}
