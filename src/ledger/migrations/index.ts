import { readFileSync } from 'node:fs';
import type { Migration } from '../../core/db/index.ts';

const file = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

/** The ledger's schema, in order. */
export const ledgerMigrations: Migration[] = [{ id: '20261126-01-ledger', sql: file('./001_ledger.sql') }];
