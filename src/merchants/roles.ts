import type { StaffRole } from '../members/index.ts';

/**
 * What each role of a merchant's staff may do. Everyone reads (the dashboard, trades, cases,
 * notifications, apps); support answers buyers (ships, answers refund cases and disputes, sends
 * notifications again, makes test payments) but moves no money; finance refunds and downloads bills but changes no
 * app; the owner does everything, and alone changes apps, keys, staff and the settlement account
 * (where the merchant's money is paid out).
 */
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

const grants: Record<StaffRole, readonly Permission[]> = {
  owner: ['read', 'answer', 'resend', 'test', 'refund', 'bills', 'apps', 'staff', 'settlement', 'activity'],
  finance: ['read', 'refund', 'bills', 'resend'],
  support: ['read', 'answer', 'resend', 'test'],
};

export function mayDo(role: StaffRole, permission: Permission): boolean {
  return grants[role].includes(permission);
}

/** Every permission of a role, for the portal to show only what its user may use. */
export function permissionsOf(role: StaffRole): readonly Permission[] {
  return grants[role];
}
