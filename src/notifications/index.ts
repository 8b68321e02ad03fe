/**
 * Notifications: the merchant notification outbox's delivery. Signed form POSTs of the rows the
 * trades module writes to `trade_notifications`, on Alipay's retry schedule, over undici.
 */

export { type NotificationChannel, NotificationDispatcher } from './dispatcher.ts';
