/**
 * The credit services the platform grants apps (Alipay's 信用服务, issue 14 §3): with one, an
 * app's freezes may ask for credit (`extra_param` `{"category": "RENT_PHONE", "serviceId": "…"}`),
 * and a payer at or above the service's score threshold has up to its waiver cap guaranteed by
 * credit rather than held. The platform's operators grant, change and withdraw them (the console,
 * audited there); merchants read theirs in the portal. One row per app, never deleted: a
 * withdrawal marks it, a new grant reopens it with the same service id, which the merchant's code
 * keeps sending.
 */
import type { Selectable } from 'kysely';
import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { dailyNumber } from '../core/external-ids.ts';
import { limits } from '../core/limits.ts';
import { dateFromNs } from '../core/time.ts';
import { PreauthError } from './errors.ts';
import type { PreauthTables } from './tables.ts';

/** An app's credit service, as the console and the portal show it. */
export interface CreditServiceView {
  appId: string;
  /** 28 digits: what the app's freezes name as extra_param's `serviceId`. */
  serviceId: string;
  /** The category the freezes name as extra_param's `category` (`RENT_PHONE`, `RENT_CAR` …). */
  category: string;
  /** The score a payer needs for credit (350–950). */
  scoreThreshold: number;
  /** The most of one freeze credit may guarantee, in fen. */
  waiverMaxFen: bigint;
  status: 'ACTIVE' | 'WITHDRAWN';
  grantedBy: string;
  grantedAt: Date;
  withdrawnBy: string | null;
  withdrawnAt: Date | null;
}

/** What the platform grants: the category, and the threshold and cap (the limits' defaults when absent). */
export interface CreditServiceGrant {
  category: string;
  scoreThreshold?: number | undefined;
  waiverMaxFen?: bigint | undefined;
}

/** What a freeze asks for, from `extra_param`. */
export interface CreditAsk {
  serviceId: string;
  category: string;
}

type Row = Selectable<PreauthTables['preauth_credit_services']>;

const categoryPattern = /^[A-Z][A-Z0-9_]{1,63}$/;
const serviceIdPattern = /^[0-9]{28}$/;

export class CreditServices {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    /** Whether the app exists (an unknown app is refused, writing nothing). */
    private readonly appExists: (appId: string) => Promise<boolean>,
  ) {}

  /**
   * Grants `appId` a credit service, or changes the terms of the one it has (reopening a withdrawn
   * one, its service id kept). Throws `invalid_parameter` for an unknown app or terms out of range.
   */
  async grant(appId: string, terms: CreditServiceGrant, by: string): Promise<CreditServiceView> {
    const threshold = terms.scoreThreshold ?? limits.preauthCreditScoreThresholdDefault;
    const waiverMaxFen = terms.waiverMaxFen ?? limits.preauthCreditWaiverFenMax;
    if (!categoryPattern.test(terms.category)) throw new PreauthError('invalid_parameter', { param: 'category' });
    if (!Number.isInteger(threshold) || threshold < limits.creditScoreMin || threshold > limits.creditScoreMax)
      throw new PreauthError('invalid_parameter', { param: 'score_threshold', detail: 'from 350 to 950' });
    if (waiverMaxFen <= 0n || waiverMaxFen > limits.preauthCreditWaiverFenMax)
      throw new PreauthError('invalid_parameter', { param: 'waiver_cap', detail: 'more than 0, at most 10000.00' });
    if (!(await this.appExists(appId))) throw new PreauthError('invalid_parameter', { param: 'app_id' });
    const now = this.#now();
    const [row] = await this.db.query<Row>(
      `insert into preauth_credit_services (app_id, service_id, category, score_threshold, waiver_max_fen, status,
         granted_by, granted_at)
       values ($1, $2, $3, $4, $5, 'ACTIVE', $6, $7)
       on conflict (app_id) do update set category = $3, score_threshold = $4, waiver_max_fen = $5, status = 'ACTIVE',
         granted_by = $6, granted_at = $7, withdrawn_by = null, withdrawn_at = null
       returning *`,
      [appId, dailyNumber('', now, 12, '00000000'), terms.category, threshold, waiverMaxFen, by, now],
    );
    return view(row as Row);
  }

  /**
   * Withdraws the app's credit service: its freezes may no longer ask for credit. Freezes granted
   * before keep their credit part (the guarantee was given). Throws `credit_service_not_open`
   * when it has none open.
   */
  async withdraw(appId: string, by: string): Promise<CreditServiceView> {
    const [row] = await this.db.query<Row>(
      `update preauth_credit_services set status = 'WITHDRAWN', withdrawn_by = $2, withdrawn_at = $3
        where app_id = $1 and status = 'ACTIVE' returning *`,
      [appId, by, this.#now()],
    );
    if (!row) throw new PreauthError('credit_service_not_open');
    return view(row);
  }

  /** The app's credit service, open or withdrawn; null when it never had one. */
  async of(appId: string): Promise<CreditServiceView | null> {
    const [row] = await this.db.query<Row>('select * from preauth_credit_services where app_id = $1', [appId]);
    return row ? view(row) : null;
  }

  /**
   * The open service a freeze of `appId` asking `ask` uses. Throws `credit_service_not_open` when
   * the app has none open, `credit_service_mismatch` when the ask names another service or category.
   */
  async serviceFor(appId: string, ask: CreditAsk): Promise<CreditServiceView> {
    const service = await this.of(appId);
    if (service?.status !== 'ACTIVE') throw new PreauthError('credit_service_not_open');
    if (service.serviceId !== ask.serviceId || service.category !== ask.category)
      throw new PreauthError('credit_service_mismatch', { param: 'extra_param' });
    return service;
  }

  #now(): Date {
    return dateFromNs(this.clock.nowNs());
  }
}

/**
 * What a freeze's `extra_param` asks (Alipay's JSON text): a credit ask when it names a
 * `serviceId`, else null (a plain fund freeze; other keys are Alipay's and taken unread). Throws
 * `invalid_parameter` for text that is not a JSON object, or a service id or category of the
 * wrong form.
 */
export function creditAskOf(extraParam: string | undefined): CreditAsk | null {
  if (extraParam === undefined || extraParam.trim() === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(extraParam);
  } catch {
    throw new PreauthError('invalid_parameter', { param: 'extra_param', detail: 'not JSON' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new PreauthError('invalid_parameter', { param: 'extra_param', detail: 'not a JSON object' });
  const { serviceId, category } = parsed as Record<string, unknown>;
  if (serviceId === undefined) return null;
  if (typeof serviceId !== 'string' || !serviceIdPattern.test(serviceId))
    throw new PreauthError('invalid_parameter', { param: 'extra_param', detail: 'serviceId: 28 digits' });
  if (typeof category !== 'string' || !categoryPattern.test(category))
    throw new PreauthError('invalid_parameter', { param: 'extra_param', detail: 'category: RENT_PHONE and the like' });
  return { serviceId, category };
}

function view(r: Row): CreditServiceView {
  return {
    appId: r.app_id,
    serviceId: r.service_id,
    category: r.category,
    scoreThreshold: r.score_threshold,
    waiverMaxFen: r.waiver_max_fen,
    status: r.status,
    grantedBy: r.granted_by,
    grantedAt: r.granted_at,
    withdrawnBy: r.withdrawn_by,
    withdrawnAt: r.withdrawn_at,
  };
}
