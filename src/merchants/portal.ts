import { randomUUID } from 'node:crypto';
import type { CardView } from '../channels/index.ts';
import type { Db } from '../core/db/index.ts';
import { limits } from '../core/limits.ts';
import { parseAmount } from '../core/money.ts';
import {
  isMembersError,
  type Members,
  type NewStaff,
  type Staff,
  type StaffActivity,
  type StaffSession,
} from '../members/index.ts';
import {
  type AfterSale,
  type DisputeView,
  type Escrow,
  type EscrowContract,
  type NotificationView,
  type RefundCaseView,
  type RefundView,
  type SellerCase,
  type SellerDispute,
  type SellerFigures,
  type SellerTradeDetail,
  type SellerTradeFilter,
  type SellerTrades,
  sellerCases,
  sellerDisputes,
  type TradeBills,
  type TradePage,
  type Trades,
  type TradeView,
} from '../trades/index.ts';
import { MerchantError } from './errors.ts';
import { mayDo, type Permission } from './roles.ts';

/**
 * The bank side of a merchant's settlement account: the channels' card binding (the bank texts a
 * code to the account holder's phone), for the merchant's own member id, as a user binds a card.
 * Settlement payouts (src/channels/seller-payouts.ts) go to the merchant's first active card.
 */
export interface SettlementCards {
  bind(memberId: string, input: { bank: string; cardNo: string; name: string; phone: string }): Promise<CardView>;
  confirm(memberId: string, cardId: string, smsCode: string): Promise<CardView>;
  list(memberId: string): Promise<CardView[]>;
}

/** An app's credit service for deposit-free freezes, as the portal shows it (read only: the platform grants it). */
export interface PortalCreditService {
  serviceId: string;
  category: string;
  scoreThreshold: number;
  waiverMaxFen: bigint;
  status: 'ACTIVE' | 'WITHDRAWN';
  grantedAt: Date;
}

export interface MerchantPortalDeps {
  db: Db;
  /** An app's credit service (src/preauth's, wired by the platform); null when it never had one. */
  creditServiceOf(appId: string): Promise<PortalCreditService | null>;
  cards: SettlementCards;
  members: Members;
  trades: Trades;
  sellerTrades: SellerTrades;
  escrow: Escrow;
  afterSale: AfterSale;
  bills: TradeBills;
}

/** An app as its merchant's portal shows it. */
export interface PortalApp {
  appId: string;
  name: string;
  notifyUrl: string | undefined;
  merchantPublicKeyPem: string;
  contract: EscrowContract;
  creditService: PortalCreditService | null;
  createdAtNs: bigint;
}

/** A trade filter as the portal takes it: the buyer by id or by phone. */
export type PortalTradeFilter = Omit<SellerTradeFilter, 'buyerId' | 'appIds'> & {
  appId?: string | undefined;
  buyer?: string | undefined;
};

/**
 * The merchant portal's application service: what a member of a merchant's staff may see and do,
 * each step checked against the role (`roles.ts`) and confined to the merchant's own apps and
 * trades. The steps themselves are the trades module's, as the gateway calls them: a refund here
 * is `Trades.refund` with the app's keys (the same rules and idempotency as `alipay.trade.refund`),
 * a shipment `Escrow.ship`, an answer `AfterSale`'s, each acting as the trade's app.
 */
export class MerchantPortal {
  constructor(private readonly deps: MerchantPortalDeps) {}

  // ---- Logins ----------------------------------------------------------------------------------

  sendLoginCode(phone: string, password: string, clientAddress?: string): Promise<void> {
    return this.deps.members.staff.sendLoginCode(phone, password, clientAddress);
  }

  login(phone: string, password: string, code: string, clientAddress?: string): Promise<StaffSession> {
    return this.deps.members.staff.login(phone, password, code, clientAddress);
  }

  /** The member of staff behind a session token; throws `session_invalid`. */
  async authenticate(token: string): Promise<Staff> {
    const staff = await this.deps.members.staff.authenticate(token);
    if (!staff) throw new MerchantError('session_invalid');
    return staff;
  }

  logout(token: string): Promise<void> {
    return this.deps.members.staff.logout(token);
  }

  /** The merchant's owner login, made by the platform (the CLI): the first member of staff. */
  createOwner(merchantId: string, input: Omit<NewStaff, 'role'>): Promise<Staff> {
    return this.deps.members.staff.add(merchantId, { ...input, role: 'owner' });
  }

  // ---- Staff -----------------------------------------------------------------------------------

  staff(staff: Staff): Promise<Staff[]> {
    require(staff, 'read');
    return this.deps.members.staff.list(staff.merchantId);
  }

  async addStaff(staff: Staff, input: NewStaff): Promise<Staff> {
    require(staff, 'staff');
    const added = await this.deps.members.staff.add(staff.merchantId, input, staff.staffId);
    return this.#did(staff, 'staff.add', added.staffId, added, { name: added.name, role: added.role });
  }

  /** Who of the staff did what (owner), newest first: refunds, shipments, answers, resends, settings. */
  activity(staff: Staff, page: { before?: string | undefined; limit: number }): Promise<StaffActivity[]> {
    require(staff, 'activity');
    return this.deps.members.staff.activity(staff.merchantId, page);
  }

  // ---- Dashboard and trades --------------------------------------------------------------------

  figures(staff: Staff): Promise<SellerFigures> {
    require(staff, 'read');
    return this.deps.sellerTrades.figures(staff.merchantId);
  }

  async trades(staff: Staff, filter: PortalTradeFilter): Promise<TradePage & { buyers: Map<string, string> }> {
    require(staff, 'read');
    const { appId, buyer, ...rest } = filter;
    if (appId !== undefined) await this.#app(staff, appId);
    const buyerId = buyer === undefined ? undefined : await this.#buyerId(buyer);
    const page = await this.deps.sellerTrades.search(staff.merchantId, {
      ...rest,
      appIds: appId === undefined ? undefined : [appId],
      buyerId,
    });
    return { ...page, buyers: await this.#buyerLogons(page.trades.map((t) => t.buyerId)) };
  }

  /** One trade with every move, refund, notification, refund case and dispute. */
  async trade(
    staff: Staff,
    tradeNo: string,
  ): Promise<SellerTradeDetail & { cases: SellerCase[]; disputes: SellerDispute[]; buyerLogonId: string | null }> {
    require(staff, 'read');
    const detail = await this.deps.sellerTrades.detail(staff.merchantId, tradeNo);
    const [cases, disputes, buyers] = await Promise.all([
      sellerCases(this.deps.db, staff.merchantId, { tradeNo }),
      sellerDisputes(this.deps.db, staff.merchantId, { tradeNo }),
      this.#buyerLogons([detail.trade.buyerId]),
    ]);
    return { ...detail, cases, disputes, buyerLogonId: buyers.get(detail.trade.buyerId ?? '') ?? null };
  }

  /** A refund from the portal: `alipay.trade.refund`'s rules, `outRequestNo` its idempotency key. */
  async refund(
    staff: Staff,
    tradeNo: string,
    request: { refundAmount: string; outRequestNo: string; reason?: string | undefined },
  ): Promise<RefundView> {
    require(staff, 'refund');
    const trade = await this.#trade(staff, tradeNo);
    const refund = await this.deps.trades.refund(trade.appId, { tradeNo }, request);
    return this.#did(staff, 'trade.refund', tradeNo, refund, request);
  }

  async ship(staff: Staff, tradeNo: string, logistics: { company: string; trackingNo: string }): Promise<TradeView> {
    require(staff, 'answer');
    const trade = await this.#trade(staff, tradeNo);
    const shipped = await this.deps.escrow.ship({ kind: 'seller', appId: trade.appId }, { tradeNo }, logistics);
    return this.#did(staff, 'trade.ship', tradeNo, shipped, logistics);
  }

  // ---- After-sale ------------------------------------------------------------------------------

  cases(staff: Staff, filter: { waiting?: boolean | undefined }): Promise<SellerCase[]> {
    require(staff, 'read');
    return sellerCases(this.deps.db, staff.merchantId, filter);
  }

  disputes(staff: Staff, filter: { waiting?: boolean | undefined }): Promise<SellerDispute[]> {
    require(staff, 'read');
    return sellerDisputes(this.deps.db, staff.merchantId, filter);
  }

  /** The seller's answer to a refund case: agree, refuse (with a reason), or confirm the returned goods. */
  async answerCase(
    staff: Staff,
    caseNo: string,
    answer: { action: 'agree' | 'refuse' | 'receive_return'; reason?: string | undefined },
  ): Promise<RefundCaseView> {
    require(staff, 'answer');
    const [found] = await sellerCases(this.deps.db, staff.merchantId, { caseNo });
    if (!found) throw new MerchantError('case_not_found');
    const seller = { kind: 'seller', appId: found.appId } as const;
    const answered =
      answer.action === 'agree'
        ? await this.deps.afterSale.agree(seller, caseNo)
        : answer.action === 'receive_return'
          ? await this.deps.afterSale.receiveReturn(seller, caseNo)
          : await this.deps.afterSale.refuse(seller, caseNo, answer.reason ?? '');
    return this.#did(
      staff,
      `refund_case.${answer.action}`,
      caseNo,
      answered,
      answer.reason ? { reason: answer.reason } : undefined,
    );
  }

  /** The seller's evidence in a dispute; the operators rule after it. */
  async answerDispute(staff: Staff, disputeNo: string, evidence: string): Promise<DisputeView> {
    require(staff, 'answer');
    const [found] = await sellerDisputes(this.deps.db, staff.merchantId, { disputeNo });
    if (!found) throw new MerchantError('dispute_not_found');
    const answered = await this.deps.afterSale.answer({ kind: 'seller', appId: found.appId }, disputeNo, evidence);
    return this.#did(staff, 'dispute.evidence', disputeNo, answered, { evidence });
  }

  // ---- Bills, notifications, apps -------------------------------------------------------------

  /** A link to the app's trade bill of a day or month: the CSV the gateway's bill download serves. */
  async billLink(staff: Staff, appId: string, billDate: string): Promise<string> {
    require(staff, 'bills');
    await this.#app(staff, appId);
    return `/bills/${await this.deps.bills.issue(appId, 'trade', billDate)}.csv`;
  }

  notifications(
    staff: Staff,
    filter: Parameters<SellerTrades['notifications']>[1],
  ): Promise<{ total: number; notifications: NotificationView[] }> {
    require(staff, 'read');
    return this.deps.sellerTrades.notifications(staff.merchantId, filter);
  }

  async resend(staff: Staff, notificationId: bigint): Promise<NotificationView> {
    require(staff, 'resend');
    const sent = await this.deps.sellerTrades.resend(staff.merchantId, notificationId);
    return this.#did(staff, 'notification.resend', String(notificationId), sent);
  }

  async apps(staff: Staff): Promise<{ apps: PortalApp[]; platformPublicKeyPem: string }> {
    require(staff, 'read');
    const [apps, keys] = await Promise.all([
      this.deps.members.appsOf(staff.merchantId),
      this.deps.members.platformKeys(),
    ]);
    const withContracts = await Promise.all(
      apps.map(async (a) => ({
        appId: a.appId,
        name: a.name,
        notifyUrl: a.notifyUrl,
        merchantPublicKeyPem: a.merchantPublicKeyPem,
        contract: await this.deps.trades.contract(a.appId),
        creditService: await this.deps.creditServiceOf(a.appId),
        createdAtNs: a.createdAtNs,
      })),
    );
    return { apps: withContracts, platformPublicKeyPem: keys.active.publicKeyPem };
  }

  /**
   * A test payment against one of the merchant's own apps: a direct (never escrow) trade of a small
   * amount, paid at the cashier like any buyer's, so that the app's notify URL and the whole path
   * can be tried. Answers the trade and its cashier path. Throws `test_amount_invalid`.
   */
  async testPayment(staff: Staff, appId: string, amount: string): Promise<{ trade: TradeView; cashierPath: string }> {
    require(staff, 'test');
    await this.#app(staff, appId);
    const fen = /^\d{1,12}(\.\d{1,2})?$/.test(amount) ? (parseAmount(amount) ?? 0n) : 0n;
    if (fen < 1n || fen > BigInt(limits.merchantTestPaymentFenMax)) throw new MerchantError('test_amount_invalid');
    const trade = await this.deps.trades.create({
      appId,
      outTradeNo: `portal-test-${randomUUID()}`,
      totalAmount: amount,
      subject: 'Test payment · 测试支付',
      escrow: false,
    });
    return this.#did(staff, 'app.test_payment', appId, { trade, cashierPath: `/cashier/${trade.tradeNo}` }, { amount });
  }

  async setNotifyUrl(staff: Staff, appId: string, url: string | undefined): Promise<void> {
    require(staff, 'apps');
    await this.#app(staff, appId);
    await this.deps.members.setNotifyUrl(appId, url);
    await this.#did(staff, 'app.notify_url', appId, undefined, { url: url ?? null });
  }

  async setMerchantPublicKey(staff: Staff, appId: string, key: string): Promise<void> {
    require(staff, 'apps');
    await this.#app(staff, appId);
    await this.deps.members.setMerchantPublicKey(appId, key);
    await this.#did(staff, 'app.merchant_public_key', appId, undefined);
  }

  // ---- Settlement account ----------------------------------------------------------------------

  /** The merchant's settlement accounts: the first active one receives the settlement payouts. */
  settlementAccounts(staff: Staff): Promise<CardView[]> {
    require(staff, 'read');
    return this.deps.cards.list(staff.merchantId);
  }

  /** Starts binding a settlement account (owner): the bank texts a code to the holder's phone. */
  async bindSettlementAccount(
    staff: Staff,
    input: { bank: string; cardNo: string; name: string; phone: string },
  ): Promise<CardView> {
    require(staff, 'settlement');
    const card = await this.deps.cards.bind(staff.merchantId, input);
    return this.#did(staff, 'settlement_account.bind', card.cardId, card, { bank: input.bank, card: card.cardNo });
  }

  /** Confirms a binding with the bank's texted code (owner); the account becomes ACTIVE. */
  async confirmSettlementAccount(staff: Staff, cardId: string, smsCode: string): Promise<CardView> {
    require(staff, 'settlement');
    const card = await this.deps.cards.confirm(staff.merchantId, cardId, smsCode);
    return this.#did(staff, 'settlement_account.confirm', cardId, card);
  }

  // ---- Helpers ---------------------------------------------------------------------------------

  /** Writes a done action to the merchant's activity log, then hands back its result. */
  async #did<R>(staff: Staff, action: string, target: string, result: R, detail?: Record<string, unknown>): Promise<R> {
    await this.deps.members.staff.record(staff, action, target, detail);
    return result;
  }

  async #app(staff: Staff, appId: string): Promise<void> {
    try {
      const app = await this.deps.members.getApp(appId);
      if (app.sellerId === staff.merchantId) return;
    } catch (error) {
      if (!isMembersError(error, 'app_not_found')) throw error;
    }
    throw new MerchantError('app_not_found');
  }

  async #trade(staff: Staff, tradeNo: string): Promise<TradeView> {
    return (await this.deps.sellerTrades.detail(staff.merchantId, tradeNo)).trade;
  }

  /** A buyer as the portal's filter names one: a user id (2088…) as it is, a phone looked up. */
  async #buyerId(buyer: string): Promise<string> {
    const text = buyer.trim();
    if (/^2088\d{12}$/.test(text)) return text;
    try {
      return (await this.deps.members.findUserByPhone(text)).userId;
    } catch (error) {
      if (isMembersError(error)) throw new MerchantError('buyer_not_found');
      throw error;
    }
  }

  /** The buyers' masked phones (`138****8000`), Alipay's buyer_logon_id, by user id. */
  async #buyerLogons(ids: readonly (string | null)[]): Promise<Map<string, string>> {
    const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
    const users = await this.deps.members.findUsers(wanted);
    return new Map(users.map((u) => [u.userId, u.logonId]));
  }
}

function require(staff: Staff, permission: Permission): void {
  if (!mayDo(staff.role, permission))
    throw new MerchantError('role_forbidden', `a ${staff.role} may not ${permission}`);
}
