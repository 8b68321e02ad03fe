import type { KeyObject } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { cached } from '../core/cache.ts';
import { limits } from '../core/limits.ts';
import { DbNonceStore, signNotification, signNotificationAsync } from '../gateway/index.ts';
import { isMembersError } from '../members/index.ts';
import { type NotificationChannel, notificationBacklog } from '../notifications/index.ts';
import type { Platform } from '../platform.ts';
import { tradeMethods } from './alipay-methods.ts';
import { registerApi } from './api.ts';
import { type AppOptions, buildApp } from './app.ts';
import { registerAuthorizePage } from './authorize-page.ts';
import { registerBills } from './bills.ts';
import { registerCashier } from './cashier.ts';
import { registerChannelsApi } from './channels-api.ts';
import { registerCardCashier } from './channels-cashier.ts';
import { registerConsole } from './console.ts';
import { registerCreditApi } from './credit-api.ts';
import { creditMethods } from './credit-methods.ts';
import { escrowMethods } from './escrow-methods.ts';
import { registerFriendPages } from './friend-pages.ts';
import { registerFundPages } from './fund-pages.ts';
import { registerPageAssets } from './html.ts';
import { LiveFigureSampler } from './live-figures.ts';
import { registerMerchantApi } from './merchant-api.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { registerOAuthApi } from './oauth-api.ts';
import { oauthMethods } from './oauth-methods.ts';
import { preauthMethods } from './preauth-methods.ts';
import { redPacketMethods } from './red-packet-methods.ts';
import { registerRedPacketPages } from './red-packet-pages.ts';
import { registerRiskApi } from './risk-api.ts';
import { registerSocialApi } from './social-api.ts';
import { registerWalletAuthorizations } from './wallet-authorizations-page.ts';
import { registerWalletPages } from './wallet-pages.ts';
import { registerWebApps } from './web-apps.ts';
import { registerPageGuard, type WebSecurityOptions } from './web-security.ts';

const appCacheOptions = { max: limits.gatewayAppCacheMax, ttlMs: limits.gatewayAppCacheMs };

export interface PlatformAppOptions {
  platform: Platform;
  logger?: FastifyBaseLogger;
  metrics?: Metrics;
  /** Where buyers reach this server (QR codes point there); known once it listens. */
  publicUrl: () => string;
  /** Bearer tokens of the operators' and the regulator's APIs (`/ops/v1`, `/regulator/v1`); unset: closed. */
  operatorToken?: string | undefined;
  regulatorToken?: string | undefined;
  /**
   * The platform's public base URL when one is configured (`PAYBAO_PUBLIC_URL`): the pages then
   * take state-changing requests only from its origin, and mark cookies Secure when it is https.
   * Unset, the request's own Host is the platform's origin (see web-security.ts).
   */
  configuredPublicUrl?: string | undefined;
  /** The overload protection's settings (`PAYBAO_CONCURRENCY_MAX` …); the limits' values when absent. */
  overload?: AppOptions['overload'];
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
  const security: WebSecurityOptions = { publicUrl: options.configuredPublicUrl };
  // One registry for `/metrics` and the console's live figures.
  const metrics = options.metrics ?? createMetrics();
  const app = buildApp({
    security,
    platform,
    logger: options.logger,
    metrics,
    overload: options.overload,
    gateway: {
      // Every request looks its app up: keep found apps a while (a changed key shows within
      // gatewayAppCacheMs) rather than read the database and parse a PEM each time.
      resolveApp: cached(async (appId: string) => {
        try {
          // The parsed key: verifying with a PEM string would parse it again on every request.
          return { merchantPublicKey: (await members.getApp(appId)).merchantPublicKey };
        } catch (error) {
          if (isMembersError(error)) return null;
          throw error;
        }
      }, appCacheOptions),
      // Shared by every server process on the database, and kept across restarts.
      nonces: new DbNonceStore(platform.db),
      platformKeys: {
        privateKey: key.privateKey,
        publicKeyPem: key.publicKeyPem,
      },
      methods: {
        ...tradeMethods({ ...platform, publicUrl: options.publicUrl }),
        ...escrowMethods(platform),
        ...redPacketMethods(platform),
        ...preauthMethods(platform),
        ...oauthMethods(platform),
        ...creditMethods(platform),
      },
    },
  });
  // The pages share one guard: cookies, the Origin check, CSRF tokens and the login rate limit.
  await app.register(async (pages) => {
    await registerPageGuard(pages, security);
    registerPageAssets(pages);
    const signReturn = (params: Record<string, string>) => signNotification(params, key.privateKey);
    const fundCovers = async (userId: string, fen: bigint) =>
      (await platform.fund.payments.sourcesFor(userId, fen)).length > 0;
    await registerCashier(pages, {
      trades,
      members,
      signReturn,
      security,
      fundCovers,
      risk: platform.risk,
      preauth: platform.preauth,
    });
    await registerCardCashier(pages, {
      trades,
      members,
      channels: platform.channels,
      signReturn,
      security,
      risk: platform.risk,
    });
    await registerWalletPages(pages, { members, wallet: platform.wallet, channels: platform.channels, security });
    await registerRedPacketPages(pages, { wallet: platform.wallet, social: platform.social, security });
    await registerFriendPages(pages, { wallet: platform.wallet, social: platform.social, security });
    await registerAuthorizePage(pages, { oauth: platform.oauth, wallet: platform.wallet, security });
    await registerWalletAuthorizations(pages, { oauth: platform.oauth, wallet: platform.wallet, security });
    await registerFundPages(pages, {
      wallet: platform.wallet,
      fund: platform.fund,
      cards: (userId) => platform.channels.cards.list(userId),
      security,
    });
  });
  await registerBills(app, platform);
  await registerWebApps(app, { security });
  await registerApi(app, { wallet: platform.wallet, buyerEscrow: platform.buyerEscrow, fund: platform.fund });
  await registerConsole(app, {
    ...platform,
    live: new LiveFigureSampler(metrics.registry, () =>
      notificationBacklog(platform.db, new Date(Number(platform.clock.nowNs() / 1_000_000n))),
    ),
  });
  await registerChannelsApi(app, {
    channels: platform.channels,
    wallet: platform.wallet,
    reconciler: platform.reconciler,
    reserves: platform.reserves,
    operatorToken: options.operatorToken,
    operators: platform.operators,
    regulatorToken: options.regulatorToken,
  });
  await registerSocialApi(app, { social: platform.social, wallet: platform.wallet });
  await registerRiskApi(app, { risk: platform.risk, wallet: platform.wallet });
  await registerOAuthApi(app, { oauth: platform.oauth, wallet: platform.wallet });
  await registerMerchantApi(app, { merchantPortal: platform.merchantPortal });
  await registerCreditApi(app, { credit: platform.credit, wallet: platform.wallet });
  return app;
}

/** Where trade notifications go: the app's notify URL, signed with the platform's key. */
export function notificationChannel(platform: Platform, privateKey: KeyObject): NotificationChannel {
  return {
    // Null only for a real absence (no such app, or one without a URL); any other failure, a
    // database error say, rejects, and the dispatcher keeps the notification for its next try.
    notifyUrlOf: async (appId) => {
      try {
        return (await platform.members.getApp(appId)).notifyUrl ?? null;
      } catch (error) {
        if (isMembersError(error) && error.code === 'app_not_found') return null;
        throw error;
      }
    },
    sign: (form) => signNotificationAsync({ charset: 'utf-8', version: '1.0', ...form }, privateKey),
  };
}
