/** The merchant portal's session and its client of `/api/v1/merchant`. */
import { useSyncExternalStore } from 'react';
import { ApiClient } from '../shared/api.ts';
import { SessionStore } from '../shared/session.ts';

export const sessions = new SessionStore('merchant');
export const api = new ApiClient('/api/v1/merchant', sessions);

/** The session's token while logged in, else null; re-renders on login and logout. */
export function useSessionToken(): string | null {
  return useSyncExternalStore(sessions.subscribe, () => sessions.get()?.token ?? null);
}

export type Role = 'owner' | 'finance' | 'support';
export type Permission =
  | 'read'
  | 'answer'
  | 'resend'
  | 'test'
  | 'refund'
  | 'bills'
  | 'apps'
  | 'staff'
  | 'settlement'
  | 'activity';

export interface Me {
  staff_id: string;
  merchant_id: string;
  merchant_name: string;
  name: string;
  role: Role;
  phone: string;
  permissions: Permission[];
}

export interface Period {
  volume: string;
  count: number;
  created: number;
  success_rate: number | null;
  refunded: string;
  refund_count: number;
}

export interface Point {
  label: string;
  volume: string;
  count: number;
}

export interface Dashboard {
  today: Period;
  month: Period;
  by_hour: Point[];
  by_day: Point[];
}

export interface Trade {
  trade_no: string;
  out_trade_no: string;
  app_id: string;
  status: string;
  total_amount: string;
  refunded_amount: string;
  subject: string;
  buyer_id: string | null;
  buyer_logon_id: string | null;
  created_at: string;
  paid_at: string | null;
  closed_at: string | null;
  escrow: {
    logistics_company: string | null;
    logistics_no: string | null;
    shipped_at: string | null;
    confirm_due_at: string | null;
    released_at: string | null;
    fee_amount: string;
    case_open: boolean;
  } | null;
}

export interface Notification {
  id: string;
  app_id: string;
  trade_no: string;
  event: string;
  trade_status: string | null;
  created_at: string;
  attempts: number;
  next_attempt_at: string | null;
  delivered_at: string | null;
  state: 'delivered' | 'pending' | 'failed';
  /** In a trade's detail: each post and what came of it. */
  posts?: {
    attempt: number;
    at: string;
    url: string | null;
    outcome: 'success' | 'rejected' | 'failed' | 'no_url';
    detail: string | null;
  }[];
}

export interface RefundCase {
  case_no: string;
  trade_no: string;
  app_id: string;
  refund_amount: string;
  reason: string;
  need_return: boolean;
  status: string;
  refuse_reason: string | null;
  return_logistics_company: string | null;
  return_logistics_no: string | null;
  due_at: string | null;
  created_at: string;
}

export interface Dispute {
  dispute_no: string;
  trade_no: string;
  app_id: string;
  case_no: string | null;
  claim_amount: string;
  reason: string;
  evidence: string | null;
  status: string;
  award_amount: string | null;
  ruling_note: string | null;
  created_at: string;
  ruled_at: string | null;
}

export interface TradeDetail {
  trade: Trade;
  transitions: { from: string; to: string; actor: string; at: string }[];
  refunds: { out_request_no: string; amount: string; reason: string | null; status: string; created_at: string }[];
  notifications: Notification[];
  cases: RefundCase[];
  disputes: Dispute[];
}

export interface AppInfo {
  app_id: string;
  name: string;
  notify_url: string | null;
  merchant_public_key: string;
  escrow_default: boolean;
  fee_bps: number;
  confirm_period_days: number;
  /** Deposit-free freezes: granted by the platform, read only here; null when none. */
  credit_service: {
    service_id: string;
    category: string;
    score_threshold: number;
    waiver_cap: string;
    status: 'ACTIVE' | 'WITHDRAWN';
    granted_at: string;
  } | null;
  created_at: string;
}

/** One entry of the activity log (`GET /activity`, the owner's). */
export interface ActivityEntry {
  id: string;
  staff_id: string;
  staff_name: string;
  role: Role;
  action: string;
  target: string;
  detail: string | null;
  at: string;
}

export interface StaffMember {
  staff_id: string;
  name: string;
  role: Role;
  phone: string;
}
