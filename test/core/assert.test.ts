/**
 * Programmer errors stay apart from operating errors: `assert` throws an `AssertionError` (never
 * a catalog error), an unexpected ledger result code fails as an assertion while the codes a
 * caller handles pass, an assertion reaching the HTTP edge is a logged 500 that says nothing of
 * it, and no source under src throws a bare `Error('invariant…')` any more.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { AssertionError, assert, unreachable } from '../../src/core/assert.ts';
import { CatalogError } from '../../src/core/catalog-error.ts';
import { assertLedgerResult, assertLedgerResults, type CreateTransferResult } from '../../src/ledger/index.ts';
import { refusalHandler, refusals } from '../../src/server/refusals.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('assert', () => {
  it('passes a truthy condition and throws an AssertionError with the message on a falsy one', () => {
    expect(() => assert(1, 'never')).not.toThrow();
    for (const falsy of [false, 0, '', null, undefined]) {
      const thrown = (() => {
        try {
          assert(falsy, 'the row exists');
        } catch (error) {
          return error;
        }
      })();
      expect(thrown).toBeInstanceOf(AssertionError);
      expect(thrown).not.toBeInstanceOf(CatalogError);
      expect((thrown as Error).name).toBe('AssertionError');
      expect((thrown as Error).message).toBe('the row exists');
    }
    expect(() => unreachable('no case')).toThrow(AssertionError);
  });

  it('treats ok and exists as done, the handled codes as passing, and any other code as a bug', () => {
    expect(() => assertLedgerResult('ok', 'payment')).not.toThrow();
    expect(() => assertLedgerResult('exists', 'payment')).not.toThrow();
    expect(() => assertLedgerResult('exceeds_credits', 'payment', ['exceeds_credits'])).not.toThrow();
    expect(() => assertLedgerResult('exceeds_credits', 'payment')).toThrow(AssertionError);
    expect(() =>
      assertLedgerResult<CreateTransferResult, 'exceeds_credits'>('debit_account_not_found', 'payment', [
        'exceeds_credits',
      ]),
    ).toThrow('the ledger refused the payment: debit_account_not_found');
    expect(() => assertLedgerResult(undefined, 'payment')).toThrow(AssertionError);
    expect(() => assertLedgerResults(['ok', 'exists'], 'escrow account')).not.toThrow();
    expect(() => assertLedgerResults(['ok', 'linked_event_failed'], 'escrow account')).toThrow(AssertionError);
  });

  it('answers an assertion at the HTTP edge as a 500 that names neither the error nor its message', async () => {
    const app = Fastify({ logger: false });
    await app.register(refusals, { handler: refusalHandler() });
    app.get('/api/v1/broken', async () => assert(false, 'secret invariant text'));
    app.get('/broken-page', async () => assert(false, 'secret invariant text'));
    const api = await app.inject({ url: '/api/v1/broken' });
    expect(api.statusCode).toBe(500);
    expect(api.json()).toMatchObject({ type: 'api_error', code: 'internal_error' });
    expect(api.body).not.toContain('secret');
    const page = await app.inject({ url: '/broken-page' });
    expect(page.statusCode).toBe(500);
    expect(page.body).not.toContain('secret');
    await app.close();
  });

  it('leaves no bare invariant or assertion Error in src: every one goes through assert', () => {
    const bare = sources('src').filter((file) =>
      /throw new Error\(\s*['`](invariant|assertion)/.test(readFileSync(file, 'utf8')),
    );
    expect(bare).toEqual([]);
  });
});
