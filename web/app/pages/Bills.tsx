/**
 * The bill, newest first, a page at a time: income or spending chosen by the API (`direction`),
 * the kind chosen here among the entries loaded (a kind spans several ledger codes).
 */
import { Button, Selector } from 'antd-mobile';
import { useEffect, useState } from 'react';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { Bill, Bills as BillsPage } from '../types.ts';
import { errorText, FormError } from '../ui.tsx';
import { BillRow } from './bill-row.tsx';

type Direction = 'all' | 'in' | 'out';
type Kind = 'all' | 'payments' | 'transfers' | 'bank' | 'fund' | 'refunds';

const kinds: Record<Exclude<Kind, 'all'>, readonly string[]> = {
  payments: [
    'trade_payment',
    'payout',
    'settlement',
    'royalty',
    'preauth_freeze',
    'preauth_unfreeze',
    'preauth_repayment',
  ],
  transfers: ['transfer'],
  bank: ['topup', 'withdrawal', 'demo_deposit'],
  fund: ['fund_purchase', 'fund_redemption', 'fund_payment'],
  refunds: ['trade_refund', 'compensation', 'recovery'],
};

const pageSize = '20';

export default function Bills() {
  const t = useT();
  const [direction, setDirection] = useState<Direction>('all');
  const [kind, setKind] = useState<Kind>('all');
  const [entries, setEntries] = useState<Bill[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  async function load(from: string | null, replace: boolean) {
    setLoading(true);
    try {
      const page = await api.get<BillsPage>('/bills', {
        limit: pageSize,
        cursor: from ?? undefined,
        direction: direction === 'all' ? undefined : direction,
      });
      setEntries((old) => (replace ? page.data : [...old, ...page.data]));
      setCursor(page.next_cursor);
      setHasMore(page.has_more);
      setError(null);
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setLoading(false);
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new direction starts the list again.
  useEffect(() => {
    load(null, true);
  }, [direction]);

  const shown = kind === 'all' ? entries : entries.filter((b) => kinds[kind].includes(b.type));
  return (
    <div className="bills">
      <header className="page-head">
        <h1>{t('bills.title')}</h1>
      </header>
      <div className="filters">
        <Selector
          aria-label={t('bills.all')}
          columns={3}
          value={[direction]}
          onChange={(v) => v[0] && setDirection(v[0])}
          options={[
            { label: t('bills.all'), value: 'all' as Direction },
            { label: t('bills.in'), value: 'in' as Direction },
            { label: t('bills.out'), value: 'out' as Direction },
          ]}
        />
        <Selector
          className="kinds"
          value={[kind]}
          onChange={(v) => v[0] && setKind(v[0])}
          options={[
            { label: t('bills.kindAll'), value: 'all' as Kind },
            { label: t('bills.kindPayments'), value: 'payments' as Kind },
            { label: t('bills.kindTransfers'), value: 'transfers' as Kind },
            { label: t('bills.kindBank'), value: 'bank' as Kind },
            { label: t('bills.kindFund'), value: 'fund' as Kind },
            { label: t('bills.kindRefunds'), value: 'refunds' as Kind },
          ]}
        />
      </div>
      <section className="panel">
        {shown.length > 0 ? (
          <ul className="bill-list" id="bill-list">
            {shown.map((b) => (
              <BillRow key={b.id} bill={b} />
            ))}
          </ul>
        ) : (
          !loading && <p className="empty">{t('bills.empty')}</p>
        )}
        <FormError text={error} />
        {hasMore ? (
          <Button
            block
            fill="none"
            color="primary"
            loading={loading}
            onClick={() => load(cursor, false)}
            data-testid="more"
          >
            {t('common.more')}
          </Button>
        ) : (
          entries.length > 0 && <p className="end muted">{t('common.noMore')}</p>
        )}
      </section>
    </div>
  );
}
