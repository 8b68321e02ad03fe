import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { limits } from '../core/limits.ts';
import { type AppResolver, signNotification } from '../gateway/index.ts';
import { isMembersError } from '../members/index.ts';
import type { Platform } from '../platform.ts';
import type { NotificationChannel } from '../trades/index.ts';
import { tradeMethods } from './alipay-methods.ts';
import { registerApi } from './api.ts';
import { buildApp } from './app.ts';
import { registerBills } from './bills.ts';
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
 * the trade methods, the cashier page, and the native API (`/api/v1`, spec at `/docs`). The
 * platform's active key signs everything.
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
      resolveApp: appCache(async (appId) => {
        try {
          return { merchantPublicKeyPem: (await members.getApp(appId)).merchantPublicKeyPem };
        } catch (error) {
          if (isMembersError(error)) return null;
          throw error;
        }
      }),
      platformKeys: {
        privateKeyPem: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        publicKeyPem: key.publicKeyPem,
      },
      methods: tradeMethods({ ...platform, publicUrl: options.publicUrl }),
    },
  });
  await registerCashier(app, { trades, members, signReturn: (params) => signNotification(params, key.privateKey) });
  await registerBills(app, platform);
  await registerApi(app, { wallet: platform.wallet });
  return app;
}

/**
 * Every gateway request looks its app up; without a cache each one is a database read and a PEM
 * parse. Found apps are kept for `limits.gatewayAppCacheMs` (so a key changed by another process
 * is picked up that late at most), at most `limits.gatewayAppCacheMax` of them, the oldest
 * leaving first. Unknown apps are not kept: an app created a moment ago is found at once.
 */
function appCache(resolve: AppResolver): AppResolver {
  const cache = new Map<string, { app: { merchantPublicKeyPem: string }; expiresAtMs: number }>();
  return async (appId) => {
    const now = performance.now();
    const hit = cache.get(appId);
    if (hit && hit.expiresAtMs > now) return hit.app;
    cache.delete(appId);
    const app = await resolve(appId);
    if (!app) return null;
    if (cache.size >= limits.gatewayAppCacheMax) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(appId, { app, expiresAtMs: now + limits.gatewayAppCacheMs });
    return app;
  };
}

/** Where trade notifications go: the app's notify URL, signed with the platform's key. */
export function notificationChannel(platform: Platform, privateKey: KeyObject): NotificationChannel {
  return {
    notifyUrlOf: async (appId) => (await platform.members.getApp(appId).catch(() => null))?.notifyUrl ?? null,
    sign: (form) => signNotification({ charset: 'utf-8', version: '1.0', ...form }, privateKey),
  };
}
