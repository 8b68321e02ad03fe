import { readFileSync } from 'node:fs';
import type { Migration } from '../../core/db/index.ts';

const file = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

/** The members module's schema, in order; it applies after the ledger's. */
export const membersMigrations: Migration[] = [
  { id: '20261126-02-members', sql: file('./001_members.sql') },
  { id: '20261128-41-operators', sql: file('./002_operators.sql') },
  { id: '20261204-11-login-throttle', sql: file('./003_login_throttle.sql') },
  { id: '20261207-70-members-phone-hash', sql: file('./004_phone_hash.sql') },
  { id: '20261207-95-payment-code-spent-for', sql: file('./005_payment_code_spent_for.sql') },
  { id: '20261208-10-members-app-auth-redirect', sql: file('./006_auth_redirect.sql') },
  { id: '20261208-20-merchant-staff', sql: file('./007_merchant_staff.sql') },
  { id: '20261208-30-members-operator-roles', sql: file('./008_operator_roles.sql') },
  { id: '20261209-10-merchant-staff-activity', sql: file('./009_merchant_staff_activity.sql') },
];
