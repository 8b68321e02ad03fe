/**
 * What the server-rendered pages (the cashiers, the wallet's withdrawal page) say instead of a
 * status code, in Chinese and English side by side as those pages speak. The apps' dictionary
 * (web/shared/words.ts) says the same; a test keeps the two equal.
 */
import type { ChannelOrderView } from '../channels/index.ts';
import type { TradeStatus } from '../trades/index.ts';

export const tradeStatusZh: Record<TradeStatus, string> = {
  WAIT_BUYER_PAY: '等待付款',
  PAYING: '付款中',
  TRADE_SUCCESS: '支付成功',
  WAIT_SELLER_SEND_GOODS: '已付款 · 等待卖家发货',
  WAIT_BUYER_CONFIRM_GOODS: '卖家已发货 · 收到后请确认收货',
  RELEASING: '已确认收货',
  TRADE_FINISHED: '交易成功',
  TRADE_CLOSED: '交易关闭',
};

export const tradeStatusEn: Record<TradeStatus, string> = {
  WAIT_BUYER_PAY: 'Awaiting payment',
  PAYING: 'Paying',
  TRADE_SUCCESS: 'Paid',
  WAIT_SELLER_SEND_GOODS: 'Paid · waiting for the seller to ship',
  WAIT_BUYER_CONFIRM_GOODS: 'Shipped · confirm when it arrives',
  RELEASING: 'Receipt confirmed',
  TRADE_FINISHED: 'Completed',
  TRADE_CLOSED: 'Closed',
};

type OrderStatus = ChannelOrderView['status'];

export const orderStatusZh: Record<OrderStatus, string> = {
  CREATED: '已创建',
  REVIEW: '审核中',
  IN_FLIGHT: '银行处理中',
  UNKNOWN: '正在向银行确认',
  SUCCESS: '成功',
  FAILED: '失败',
};

export const orderStatusEn: Record<OrderStatus, string> = {
  CREATED: 'Created',
  REVIEW: 'Under review',
  IN_FLIGHT: 'The bank is processing',
  UNKNOWN: 'Checking with the bank',
  SUCCESS: 'Succeeded',
  FAILED: 'Failed',
};

/** A trade's status in both languages, e.g. `等待付款 · Awaiting payment`. */
export const tradeStatusWords = (status: TradeStatus): string => `${tradeStatusZh[status]} · ${tradeStatusEn[status]}`;

/** A bank order's status in both languages. */
export const orderStatusWords = (status: OrderStatus): string => `${orderStatusZh[status]} · ${orderStatusEn[status]}`;
