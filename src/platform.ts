import { createHmac, type KeyObject } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  type ChannelBankConfig,
  type ChannelParties,
  Channels,
  type ChannelsOptions,
  channelsMigrations,
  isChannelError,
  payOutToCards,
  Reconciler,
  ReserveReport,
} from './channels/index.ts';
import { channelBanksFromEnv, creditFromEnv, publicUrlFromEnv } from './config.ts';
import { cached } from './core/cache.ts';
import { type Clock, systemClock } from './core/clock.ts';
import { type Db, type Migration, migrate, openDb, pendingMigrations } from './core/db/index.ts';
import { limits } from './core/limits.ts';
import { formatAmount, minFen, parseAmount } from './core/money.ts';
import { CourtList, courtListMigrations } from './court-list/index.ts';
import { Credit, type CreditOptions, creditMigrations, isCreditError } from './credit/index.ts';
import { Fund, type FundParties, fundMigrations, isFundError } from './fund/index.ts';
import { gatewayMigrations } from './gateway/index.ts';
import { type BatchStats, Ledger, ledgerMigrations } from './ledger/index.ts';
import {
  isMembersError,
  Members,
  membersMigrations,
  Operators,
  OutboxSmsSender,
  type SmsSender,
} from './members/index.ts';
import { MerchantPortal } from './merchants/index.ts';
import { Authorizations, type OAuthParties, oauthMigrations } from './oauth/index.ts';
import { type PayoutParties, Payouts, payoutsMigrations } from './payouts/index.ts';
import {
  type CreditService,
  type DebtSources,
  type PreauthParties,
  Preauths,
  type PreauthTrades,
  preauthMigrations,
} from './preauth/index.ts';
import { type CounterStore, RedisCounterStore, Risk, type RiskParties, riskMigrations } from './risk/index.ts';
import { Social, type SocialParties, socialMigrations } from './social/index.ts';
import {
  AfterSale,
  type BillLinkKeys,
  Escrow,
  type FundingRequest,
  type FundingSource,
  Royalties,
  SellerTrades,
  Settlements,
  TradeBills,
  type TradeParties,
  Trades,
  tradesMigrations,
} from './trades/index.ts';
import { BuyerEscrow, Wallet, walletMigrations } from './wallet/index.ts';

/** Every module's migrations; ids sort in the order they apply. */
export const allMigrations: readonly Migration[] = [
  ...ledgerMigrations,
  ...membersMigrations,
  ...tradesMigrations,
  ...payoutsMigrations,
  ...walletMigrations,
  ...channelsMigrations,
  ...gatewayMigrations,
  ...fundMigrations,
  ...socialMigrations,
  ...riskMigrations,
  ...oauthMigrations,
  ...creditMigrations,
  ...preauthMigrations,
  ...courtListMigrations,
];

export interface PlatformOptions {
  databaseUrl?: string | undefined;
  databaseSchema?: string | undefined;
  /** PGlite files; undefined keeps PGlite in memory. */
  dataDir?: string | undefined;
  /** PGlite: serve the data directory to other processes (a server) or reach its owner (the default). */
  pgliteSharing?: 'serve' | 'reach' | undefined;
  clock?: Clock;
  onBatch?: (stats: BatchStats) => void;
  /** Events one batch of the ledger's bulk lane carries; `limits.bulkBatchEventsMax` when absent (benches). */
  bulkBatchEventsMax?: number | undefined;
  /** Connections of the PostgreSQL pool; `limits.pgPoolConnectionsMax` when absent (benches). */
  poolMax?: number | undefined;
  /**
   * Open the database read-only and migrate nothing (`paybao start --read-only`): refused when a
   * migration is pending, since the code would not match the schema.
   */
  readOnly?: boolean | undefined;
  /** Where SMS codes go; the development outbox (`paybao sms list`) when absent. */
  smsSender?: SmsSender;
  /** The banks the channels reach; `channelBanksFromEnv()` (the simulator's banks) when absent. */
  channelBanks?: readonly ChannelBankConfig[];
  /** The circuit breakers in front of the banks (`ChannelsOptions.breakers`): the limits' by default. */
  channelBreakers?: ChannelsOptions['breakers'];
  /** The platform's private keys are stored encrypted under it; in clear when absent (development). */
  keyPassphrase?: string | undefined;
  /**
   * Where banks and buyers reach the platform (`PAYBAO_PUBLIC_URL`), given to the channels at
   * construction; the environment's (`publicUrlFromEnv`) when absent.
   */
  publicUrl?: (() => string) | undefined;
  /** Where the risk engine's velocity counters are shared between processes; the database when absent. */
  riskCounters?: CounterStore | undefined;
  /** `REDIS_URL`: the risk engine's counters in Redis (unless `riskCounters` names a store). */
  redisUrl?: string | undefined;
  /** What the counters' Redis keys begin with (several platforms on one Redis); `paybao:risk:` when absent. */
  redisPrefix?: string | undefined;
  /** The credit score's identity hash key and scorecard; the environment's (`creditFromEnv`) when absent. */
  credit?: CreditOptions | undefined;
}

/** The composition root: storage, migrations and every module, wired once. */
export interface Platform {
  db: Db;
  ledger: Ledger;
  members: Members;
  trades: Trades;
  /** Trade bills behind short-lived signed links (`alipay.data.dataservice.bill.downloadurl.query`). */
  bills: TradeBills;
  /** Merchant-to-member transfers (`alipay.fund.trans.uni.transfer`). */
  payouts: Payouts;
  /** The wallet as its owner sees it: what the native API (`/api/v1`) serves. */
  wallet: Wallet;
  /** Escrow trades after payment: shipment, confirmation, release, the auto-confirm sweep. */
  escrow: Escrow;
  /** Refund cases and disputes of escrow trades, the compensation fund. */
  afterSale: AfterSale;
  /** Splits of a trade's proceeds (`alipay.trade.order.settle`). */
  royalties: Royalties;
  /** The settlement job: each seller's released money merged into one payout, with a statement. */
  settlements: Settlements;
  /** Console operators. */
  operators: Operators;
  /** The merchant portal (`/merchant`): a merchant's staff by role, their trades, refunds, after-sale, apps. */
  merchantPortal: MerchantPortal;
  /** The buyer's side of escrow trades, for the native API. */
  buyerEscrow: BuyerEscrow;
  /** Bank channels: top-ups, card binding, withdrawals (src/channels). */
  channels: Channels;
  /** Bank statements against channel orders; the operator's queue; losses. */
  reconciler: Reconciler;
  /** Customer balances against the reserves at the banks (the regulator's view). */
  reserves: ReserveReport;
  /** Yu'e Bao: fund companies and products, purchases, daily income, redemptions (src/fund). */
  fund: Fund;
  /** Friends, blocks, contact matching, groups (src/social). */
  social: Social;
  /** The risk engine: a decision before every money-out path moves money (src/risk). */
  risk: Risk;
  /** User authorisation for merchants: Alipay's OAuth codes and tokens (src/oauth). */
  oauth: Authorizations;
  /** The credit score and real-name verification (src/credit). */
  credit: Credit;
  /**
   * Pre-authorisation: fund freezes as ledger holds, settled by `alipay.trade.pay` with `auth_no`
   * (src/preauth). A freeze that asks for credit (`extra_param`) on an app the platform granted a
   * credit service (`preauth.creditServices`, the console's) reads the payer's score from
   * `credit.score`: at or above the service's threshold up to its cap is waived.
   */
  preauth: Preauths;
  /** The courts' list of dishonest debtors: imports, operators' entries, `isListed` (src/court-list). */
  courtList: CourtList;
  clock: Clock;
  /** Drains every in-flight batch, then closes storage. */
  close(): Promise<void>;
}

export async function openPlatform(options: PlatformOptions): Promise<Platform> {
  const db = await openDb({
    databaseUrl: options.databaseUrl,
    schema: options.databaseSchema,
    dataDir: options.dataDir,
    pgliteSharing: options.pgliteSharing,
    poolMax: options.poolMax,
    readOnly: options.readOnly,
  });
  if (options.readOnly) await refusePendingMigrations(db);
  else await migrate(db, allMigrations);
  const clock = options.clock ?? systemClock;
  const ledger = new Ledger(db, { clock, onBatch: options.onBatch, bulkBatchEventsMax: options.bulkBatchEventsMax });
  const sms = options.smsSender ?? new OutboxSmsSender(db, clock);
  const members = new Members(db, ledger, { clock, smsSender: sms, keyPassphrase: options.keyPassphrase });
  // The counters all processes share: Redis when the platform is given one, else the database.
  const redis = options.redisUrl && !options.riskCounters ? new Redis(options.redisUrl) : undefined;
  const counters = options.riskCounters ?? (redis && new RedisCounterStore(redis, options.redisPrefix));
  // The court list comes with the credit module's real names (below): the engine asks it once payments run.
  const risk = new Risk(
    db,
    ledger,
    riskParties(members, sms, () => courtList),
    clock,
    { counters },
  );
  const parties = tradeParties(members);
  // The fund reaches the banks for purchases from cards once the channels exist (below).
  const fund = new Fund(
    db,
    ledger,
    fundParties(members, () => channels),
    clock,
  );
  // Yu'e Bao pays trades and transfers alike: the fund's legs in the payment's own chain.
  const funding = fundingFromFund(fund);
  const trades = new Trades(db, ledger, parties, clock, funding);
  const escrow = new Escrow(db, ledger, clock);
  const afterSale = new AfterSale(db, ledger, trades, { fundingAccountId: () => members.fundingAccountId() }, clock);
  const royalties = new Royalties(db, ledger, parties, clock);
  const operators = new Operators(db, clock);
  const bills = new TradeBills(db, clock, billLinkKeys(members));
  const payouts = new Payouts(db, ledger, payoutParties(members), clock, risk);
  const tradeRefs = {
    tradeNos: (buyerId: string, refs: readonly bigint[]) => trades.tradeNosByLedgerRef(buyerId, refs),
  };
  const social = new Social(db, ledger, socialParties(members), clock, { risk });
  // Transfers between users respect the payee's block and a new friendship's daily cap.
  const transferPolicy = { rule: (payer: string, payee: string) => social.friends.transferRule(payer, payee) };
  const wallet = new Wallet({
    db,
    ledger,
    members,
    trades,
    tradeRefs,
    clock,
    transferPolicy,
    funding,
    risk,
  });
  const channels = new Channels(db, ledger, channelParties(members), clock, {
    banks: options.channelBanks ?? channelBanksFromEnv(),
    publicUrl: options.publicUrl ?? publicUrlFromEnv(),
    risk,
    breakers: options.channelBreakers,
  });
  // Settled seller payouts go on to the sellers' cards (the policy is the channels').
  const settlements = new Settlements(db, ledger, parties, clock, { payout: payOutToCards(channels) });
  const reconciler = new Reconciler(db, ledger, channels, clock);
  const reserves = new ReserveReport(db, ledger, channels, clock);
  const credit = new Credit(db, clock, options.credit ?? creditFromEnv());
  const courtList = new CourtList(db, clock, credit.realNames);
  const preauth = new Preauths(
    db,
    ledger,
    preauthParties(parties),
    preauthTrades(trades),
    clock,
    creditService(credit, courtList),
    debtSources(fund, channels),
  );
  return {
    db,
    ledger,
    members,
    trades,
    bills,
    payouts,
    wallet,
    escrow,
    afterSale,
    royalties,
    settlements,
    operators,
    merchantPortal: new MerchantPortal({
      db,
      creditServiceOf: (appId) => preauth.creditServices.of(appId),
      cards: channels.cards,
      members,
      trades,
      sellerTrades: new SellerTrades(db, clock),
      escrow,
      afterSale,
      bills,
    }),
    buyerEscrow: new BuyerEscrow(escrow, afterSale),
    channels,
    reconciler,
    reserves,
    fund,
    social,
    risk,
    oauth: new Authorizations(db, oauthParties(members), clock),
    credit,
    preauth,
    courtList,
    clock,
    async close() {
      // What the risk engine counted and learned since its last round is not lost.
      await risk.flush();
      await redis?.quit();
      await ledger.close();
      await db.close();
    },
  };
}

/** A read-only start writes nothing, so it cannot bring the schema up to this code's. */
async function refusePendingMigrations(db: Db): Promise<void> {
  const pending = await pendingMigrations(db, allMigrations);
  if (pending.length === 0) return;
  await db.close();
  throw new Error(
    `the database lacks ${pending.length} of this Paybao's migrations (the first: ${pending[0]}), and a read-only start writes nothing: run \`paybao migrate\` first, or use the Paybao that wrote it`,
  );
}

/** Trades meet members here: an app's seller and a buyer, with their wallet accounts. */
function tradeParties(members: Members): TradeParties {
  const orNull = <T>(promise: Promise<T>): Promise<T | null> =>
    promise.catch((error: unknown) => {
      if (isMembersError(error)) return null;
      throw error;
    });
  // An app's seller and a member's wallet account never change: every trade need not read them.
  const options = { max: limits.partyCacheMax, ttlMs: limits.partyCacheMs };
  return {
    sellerOf: cached(async (appId: string) => {
      const app = await orNull(members.getApp(appId));
      if (!app) return null;
      const seller = await members.getMember(app.sellerId);
      return { sellerId: seller.userId, accountId: seller.walletAccountId };
    }, options),
    buyer: cached(async (userId: string) => {
      const user = await orNull(members.getMember(userId));
      return user ? { userId: user.userId, accountId: user.walletAccountId } : null;
    }, options),
  };
}

/** Pre-authorisation meets members here: an app's merchant, a payer's wallet (the trades' own lookups). */
function preauthParties(parties: TradeParties): PreauthParties {
  return {
    async payeeOf(appId) {
      const seller = await parties.sellerOf(appId);
      return seller ? { userId: seller.sellerId, accountId: seller.accountId } : null;
    },
    payer: (userId) => parties.buyer(userId),
  };
}

/** Pre-authorisation meets trades here: a settlement is an `alipay.trade.pay` trade paid by the hold. */
function preauthTrades(trades: Trades): PreauthTrades {
  return {
    async open(input) {
      const trade = await trades.openHoldPayment(
        {
          appId: input.appId,
          outTradeNo: input.outTradeNo,
          totalAmount: formatAmount(input.totalFen),
          subject: input.subject,
          notifyUrl: input.notifyUrl,
        },
        input.buyerId,
      );
      return trade.tradeNo;
    },
    paid: (tradeNo) => trades.recordHoldPaid(tradeNo),
    abandoned: (tradeNo) => trades.abandonHoldPayment(tradeNo),
  };
}

/**
 * Credit-based freezes meet the score here: a user's score now, null when there is too little
 * data (N/A) or no such user; and the courts' list of dishonest debtors, whose listed users are
 * refused any freeze that asks for credit (a plain deposit freeze they may still make).
 */
function creditService(credit: Credit, courtList: CourtList): CreditService {
  return {
    restricted: (userId) => courtList.isListed(userId),
    scores: {
      async creditScore(userId) {
        try {
          return (await credit.score(userId)).score;
        } catch (error) {
          if (isCreditError(error, 'user_not_found')) return null;
          throw error;
        }
      },
    },
  };
}

/**
 * A deposit-free freeze's debt is collected from the debtor's Yu'e Bao (fast redemptions into the
 * wallet) and then the first active bound card (quick pay into the wallet). The fund's and the
 * channels' refusals (the day's fast limit, the pool, a frozen account, the bank's answer) mean
 * nothing moved this round; the next round asks again.
 */
function debtSources(fund: Fund, channels: Channels): DebtSources {
  return {
    async fromFund(userId, fen, key) {
      let moved = 0n;
      const holdings = await fund.orders.holdings(userId);
      for (const [i, h] of holdings.entries()) {
        const take = minFen(parseAmount(h.shares) ?? 0n, fen - moved);
        if (take <= 0n) continue;
        try {
          const order = await fund.orders.redeem(userId, {
            productCode: h.productCode,
            amount: formatAmount(take),
            idempotencyKey: `${key}-${i}`,
            kind: 'fast',
          });
          if (order.status === 'paid') moved += take;
        } catch (error) {
          if (!isFundError(error)) throw error;
        }
      }
      return moved;
    },
    async fromCard(userId, fen, key) {
      const card = (await channels.cards.list(userId)).find((c) => c.status === 'ACTIVE');
      if (!card) return 0n;
      try {
        const order = await channels.topUpByCard(userId, {
          cardId: card.cardId,
          amount: formatAmount(fen),
          idempotencyKey: key,
        });
        return order.status === 'SUCCESS' ? fen : 0n;
      } catch (error) {
        if (isChannelError(error)) return 0n;
        throw error;
      }
    },
  };
}

/** The risk engine meets members here (who a payer is, their phone) and the court list (who may not pay whom). */
function riskParties(members: Members, sms: SmsSender, courtList: () => CourtList): RiskParties {
  return {
    async member(userId) {
      try {
        const m = await members.getMember(userId);
        return { kind: m.kind, createdAtNs: m.createdAtNs, phone: m.phone, walletAccountId: m.walletAccountId };
      } catch (error) {
        if (isMembersError(error)) return null;
        throw error;
      }
    },
    sendSms: (phone, text) => sms.send({ phone, text }),
    frozen: (userId) => members.freezes.isFrozen(userId),
    restriction: (userId, category) => courtList().restriction(userId, category),
  };
}

/** Payouts meet members here: an app's merchant pays a member named by user id or phone. */
function payoutParties(members: Members): PayoutParties {
  const orNull = <T>(promise: Promise<T>): Promise<T | null> =>
    promise.catch((error: unknown) => {
      if (isMembersError(error)) return null;
      throw error;
    });
  return {
    async payerOf(appId) {
      const app = await orNull(members.getApp(appId));
      if (!app) return null;
      const merchant = await members.getMember(app.sellerId);
      return { payerId: merchant.userId, accountId: merchant.walletAccountId };
    },
    async payee(identity, type) {
      const member = await orNull(
        type === 'ALIPAY_USER_ID' ? members.getMember(identity) : members.findUserByPhone(identity),
      );
      return member ? { userId: member.userId, accountId: member.walletAccountId } : null;
    },
  };
}

/** The social module meets members here: users by id, by phone, by the hash of their phone. */
function socialParties(members: Members): SocialParties {
  const view = (u: { userId: string; logonId: string; walletAccountId: bigint }) => ({
    userId: u.userId,
    logonId: u.logonId,
    walletAccountId: u.walletAccountId,
  });
  return {
    users: async (ids) => (await members.findUsers(ids)).map(view),
    async userByPhone(phone) {
      try {
        return view(await members.findUserByPhone(phone));
      } catch (error) {
        if (isMembersError(error)) return null;
        throw error;
      }
    },
    usersByPhoneHashes: async (hashes) =>
      (await members.findUsersByPhoneHashes(hashes)).map((u) => ({ ...view(u), phoneSha256: u.phoneSha256 })),
    walletOf: walletParty(members).walletOf,
  };
}

/** User authorisation meets members here: an app's name and its authorisation callback address. */
function oauthParties(members: Members): OAuthParties {
  return {
    async app(appId) {
      try {
        const app = await members.getApp(appId);
        return { appId: app.appId, name: app.name, authRedirectUrl: app.authRedirectUrl };
      } catch (error) {
        if (isMembersError(error)) return null;
        throw error;
      }
    },
  };
}

/** Channels meet members here: a user's wallet account. */
function channelParties(members: Members): ChannelParties {
  return walletParty(members);
}

/** Trades meet the fund here: a payment may draw on the buyer's Yu'e Bao (`FundingSource`). */
function fundingFromFund(fund: Fund): FundingSource {
  const payment = (r: FundingRequest) => ({
    userId: r.buyerId,
    productCode: r.source,
    fen: r.fen,
    paymentKey: r.tradeNo,
  });
  return {
    choose: (buyerId, fen) => fund.payments.choose(buyerId, fen),
    legs: (r) => fund.payments.legs(payment(r), r.buyerAccount),
    settled: (r, results) => fund.payments.settled(payment(r), results),
    refundLegs: (r) =>
      fund.payments.refundLegs(
        { refundKey: r.refundKey, tradeRef: r.tradeRef, userId: r.buyerId, productCode: r.source, fen: r.fen },
        r.payer,
      ),
    isRefusal: (error) => isFundError(error),
  };
}

/** The fund meets members and banks here: a user's wallet, and quick pay from a bound card. */
function fundParties(members: Members, channels: () => Channels): FundParties {
  return {
    ...walletParty(members),
    async withholdFromCard(userId, { cardId, fen, key }) {
      const order = await channels().topUpByCard(userId, { cardId, amount: formatAmount(fen), idempotencyKey: key });
      if (order.status === 'SUCCESS') return { status: 'succeeded', orderNo: order.orderNo };
      if (order.status === 'FAILED')
        return { status: 'failed', orderNo: order.orderNo, failCode: order.failCode ?? '' };
      return { status: 'pending', orderNo: order.orderNo };
    },
  };
}

function walletParty(members: Members): ChannelParties & FundParties {
  return {
    async walletOf(userId) {
      try {
        return (await members.getMember(userId)).walletAccountId;
      } catch (error) {
        if (isMembersError(error)) return null;
        throw error;
      }
    },
  };
}

/**
 * Bill links are signed with a key derived from the platform's private key (HMAC over its DER,
 * under a label of its own): the active key signs; the newest retired one still verifies, so a
 * link issued just before a rotation lives out its few seconds.
 */
function billLinkKeys(members: Members): BillLinkKeys {
  const derived = new WeakMap<object, Buffer>();
  const derive = (key: { privateKey: KeyObject }): Buffer => {
    let secret = derived.get(key.privateKey);
    if (!secret) {
      const der = key.privateKey.export({ type: 'pkcs8', format: 'der' });
      secret = createHmac('sha256', der).update('paybao bill links').digest();
      derived.set(key.privateKey, secret);
    }
    return secret;
  };
  return async () => {
    const keys = await members.platformKeys();
    return [keys.active, ...keys.retired.slice(0, 1)].map(derive);
  };
}
