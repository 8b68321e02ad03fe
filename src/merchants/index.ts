/** The merchant portal's application service: a merchant's staff, their roles, their work. */
export { MerchantError, type MerchantErrorCode, merchantErrors } from './errors.ts';
export {
  MerchantPortal,
  type MerchantPortalDeps,
  type PortalApp,
  type PortalCreditService,
  type PortalTradeFilter,
} from './portal.ts';
export { mayDo, type Permission, permissionsOf } from './roles.ts';
