/**
 * Notifications: the merchant notification outbox's delivery. Signed form POSTs of the rows the
 * trades module writes to `trade_notifications`, on Alipay's retry schedule, over undici.
 */

export { notificationBacklog } from './backlog.ts';
export { type NotificationChannel, NotificationDispatcher } from './dispatcher.ts';
