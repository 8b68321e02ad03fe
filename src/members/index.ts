/** Members: users, merchants, apps, logins, payment codes, the platform key pair, wallets. */
export { isMembersError, MembersError, type MembersErrorCode, membersErrors } from './errors.ts';
export { appIdPattern, paymentCodePattern, userIdPattern } from './external-ids.ts';
export type { Freeze } from './freezes.ts';
export {
  type App,
  type CreateAppInput,
  type CreatedApp,
  type CreateUserInput,
  type Member,
  Members,
  type MembersOptions,
  type User,
  validAuthRedirectUrl,
  validNotifyUrl,
} from './members.ts';
export {
  type NewStaff,
  type Staff,
  type StaffActivity,
  type StaffRole,
  type StaffSession,
  staffRoles,
} from './merchant-staff.ts';
export { membersMigrations } from './migrations/index.ts';
export {
  type AuditEntry,
  type AuditInput,
  type Operator,
  type OperatorRole,
  Operators,
  type OperatorView,
  operatorRoles,
  roleAllows,
} from './operators.ts';
export { maskPhone, normalizePhone } from './phone.ts';
export type { PlatformKey, PlatformKeys } from './platform-keys.ts';
export { type OutboxMessage, OutboxSmsSender, type SmsMessage, type SmsSender } from './sms.ts';
