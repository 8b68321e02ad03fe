/**
 * My orders: the trades the user paid, newest first, a page at a time (`GET /trades`), each with
 * its status in words and a link to its detail, where escrow trades are confirmed, refunded or
 * disputed. "To do" keeps those waiting for the buyer: shipped goods to confirm.
 */
import { Button, Selector } from 'antd-mobile';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { formatTime, useLocale } from '../../shared/i18n.tsx';
import { yuan } from '../../shared/money.ts';
import { api } from '../client.ts';
import { type T, useT } from '../messages.ts';
import type { Trade, TradesPage } from '../types.ts';
import { errorText, FormError, SubPage } from '../ui.tsx';

type Show = 'all' | 'escrow' | 'toConfirm';

const shows: Record<Show, (trade: Trade) => boolean> = {
  all: () => true,
  escrow: (trade) => trade.escrow !== null,
  toConfirm: (trade) => trade.status === 'WAIT_BUYER_CONFIRM_GOODS',
};

const pageSize = '20';
const statusWord = (t: T, status: string) => t(`trade.${status}` as Parameters<T>[0]);

export default function Trades() {
  const t = useT();
  const { locale } = useLocale();
  const [show, setShow] = useState<Show>('all');
  const [trades, setTrades] = useState<Trade[]>([]);
  const [after, setAfter] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  async function load(from: string | null) {
    setLoading(true);
    try {
      const page = await api.get<TradesPage>('/trades', { limit: pageSize, after: from ?? undefined });
      setTrades((old) => (from === null ? page.data : [...old, ...page.data]));
      setAfter(page.next_after);
      setError(null);
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setLoading(false);
    }
  }

  // biome-ignore lint/correctness/useExhaustiveDependencies: loaded once, then page by page.
  useEffect(() => {
    load(null);
  }, []);

  const shown = trades.filter(shows[show]);
  return (
    <SubPage title={t('trades.title')} back="/me">
      <div className="filters">
        <Selector
          aria-label={t('trades.title')}
          columns={3}
          value={[show]}
          onChange={(v) => v[0] && setShow(v[0])}
          options={[
            { label: t('trades.all'), value: 'all' as Show },
            { label: t('trades.escrow'), value: 'escrow' as Show },
            { label: t('trades.toConfirm'), value: 'toConfirm' as Show },
          ]}
        />
      </div>
      <section className="panel">
        {shown.length > 0 ? (
          <ul className="bill-list" id="trade-list">
            {shown.map((trade) => (
              <li key={trade.trade_no}>
                <Link to={`/trades/${trade.trade_no}`} className="bill-row">
                  <span className="bill-dot trade_payment" aria-hidden>
                    {trade.subject.slice(0, 1)}
                  </span>
                  <span className="bill-main">
                    <span className="bill-title">{trade.subject}</span>
                    <span className="bill-time">
                      {statusWord(t, trade.status)} · {formatTime(trade.created_at, locale)}
                    </span>
                  </span>
                  <span className="bill-amount out">{yuan(trade.total_amount)}</span>
                </Link>
              </li>
            ))}
          </ul>
        ) : (
          !loading && <p className="empty">{t('trades.empty')}</p>
        )}
        <FormError text={error} />
        {after !== null ? (
          <Button block fill="none" color="primary" loading={loading} onClick={() => load(after)} data-testid="more">
            {t('common.more')}
          </Button>
        ) : (
          trades.length > 0 && <p className="end muted">{t('common.noMore')}</p>
        )}
      </section>
    </SubPage>
  );
}
