import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { type Db, typed } from '../core/db/index.ts';
import { dateFromNs } from '../core/time.ts';
import type { MemberTables } from './tables.ts';

export interface Operator {
  operatorId: string;
  name: string;
}

const tokenPrefix = 'pbo_';
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * The platform's operators, who work the console (dispute rulings). An operator authenticates
 * with a bearer token shown once at creation (`paybao operators create`); only its SHA-256 is kept.
 */
export class Operators {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async create(name: string): Promise<Operator & { token: string }> {
    if (typeof name !== 'string' || !name.trim() || name.length > 64) throw new RangeError('name: 1 to 64 characters');
    const token = `${tokenPrefix}${randomBytes(32).toString('base64url')}`;
    const operatorId = randomUUID();
    await typed<MemberTables>(this.db)
      .insertInto('operators')
      .values({
        operator_id: operatorId,
        name: name.trim(),
        token_sha256: tokenHash(token),
        created_at: dateFromNs(this.clock.nowNs()),
      })
      .execute();
    return { operatorId, name: name.trim(), token };
  }

  /** The operator behind a bearer token; null for anything else. */
  async authenticate(token: string | undefined): Promise<Operator | null> {
    if (typeof token !== 'string' || !token.startsWith(tokenPrefix)) return null;
    const row = await typed<MemberTables>(this.db)
      .selectFrom('operators')
      .select(['operator_id', 'name'])
      .where('token_sha256', '=', tokenHash(token))
      .executeTakeFirst();
    return row ? { operatorId: row.operator_id, name: row.name } : null;
  }
}
