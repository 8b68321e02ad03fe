/**
 * Home: the balance, the quick actions, Yu'e Bao and red packets when the user has them, and the
 * latest bills. It comes with the first script (the other pages are loaded when shown).
 */
import { EyeInvisibleOutline, EyeOutline } from 'antd-mobile-icons';
import { useState } from 'react';
import { Link } from 'react-router';
import { useLocale } from '../../shared/i18n.tsx';
import { sumYuan, yuan } from '../../shared/money.ts';
import { api, sessions } from '../client.ts';
import { useT } from '../messages.ts';
import type { Balance, Bills, FundHolding, RedPacket } from '../types.ts';
import { Loading, useLoad } from '../ui.tsx';
import { BillRow } from './bill-row.tsx';
import { ActionIcon, type ActionName } from './icons.tsx';

const actions: { name: ActionName; to: string; label: Parameters<ReturnType<typeof useT>>[0] }[] = [
  { name: 'pay', to: '/pay-code', label: 'home.payCode' },
  { name: 'scan', to: '/scan', label: 'home.scan' },
  { name: 'transfer', to: '/transfer', label: 'home.transfer' },
  { name: 'topUp', to: '/top-up', label: 'home.topUp' },
  { name: 'withdraw', to: '/withdraw', label: 'home.withdraw' },
  { name: 'cards', to: '/cards', label: 'home.cards' },
];

export function Home() {
  const t = useT();
  const [hidden, setHidden] = useState(false);
  const balance = useLoad(() => api.get<Balance>('/balance'), []);
  const bills = useLoad(() => api.get<Bills>('/bills', { limit: '5' }), []);
  const extras = useLoad(loadExtras, []);
  return (
    <div className="home">
      <section className="hero" aria-labelledby="balance-label">
        <div className="hero-top">
          <span id="balance-label">{t('home.balance')}</span>
          <button
            type="button"
            className="eye"
            aria-label={hidden ? t('home.show') : t('home.hide')}
            onClick={() => setHidden(!hidden)}
          >
            {hidden ? <EyeInvisibleOutline aria-hidden /> : <EyeOutline aria-hidden />}
          </button>
        </div>
        <div className="hero-balance" id="balance">
          {balance.data ? (hidden ? '****' : yuan(balance.data.available).slice(1)) : '—'}
        </div>
        <nav className="actions" aria-label={t('app.name')}>
          {actions.map((a) => (
            <Link key={a.to} to={a.to} className="action" id={`action-${a.name}`}>
              <span className={`action-icon ${a.name}`}>
                <ActionIcon name={a.name} />
              </span>
              <span>{t(a.label)}</span>
            </Link>
          ))}
        </nav>
      </section>
      {extras.data && <Extras {...extras.data} hidden={hidden} />}
      <section className="panel" aria-labelledby="recent-title">
        <div className="panel-head">
          <h2 id="recent-title">{t('home.recent')}</h2>
          <Link to="/bills">{t('home.all')}</Link>
        </div>
        <Loading loaded={bills}>
          {(page) =>
            page.data.length === 0 ? (
              <p className="empty">{t('home.noBills')}</p>
            ) : (
              <ul className="bill-list">
                {page.data.map((b) => (
                  <BillRow key={b.id} bill={b} />
                ))}
              </ul>
            )
          }
        </Loading>
      </section>
    </div>
  );
}

/** Yu'e Bao and red packets: shown only when the user has some (either call may be missing). */
async function loadExtras(): Promise<{ funds: FundHolding[]; packets: RedPacket[] }> {
  const [funds, packets] = await Promise.all([
    api.get<{ data: FundHolding[] }>('/fund/holdings').catch(() => ({ data: [] })),
    api.get<{ data: RedPacket[] }>('/red-packets', { box: 'received' }).catch(() => ({ data: [] })),
  ]);
  return { funds: funds.data.filter((f) => f.shares !== '0.00'), packets: packets.data };
}

function Extras({ funds, packets, hidden }: { funds: FundHolding[]; packets: RedPacket[]; hidden: boolean }) {
  const t = useT();
  const { locale } = useLocale();
  const me = sessions.get()?.userId;
  if (funds.length === 0 && packets.length === 0) return null;
  const received = packets.flatMap((p) => p.grabs.filter((g) => g.user_id === me).map((g) => g.amount));
  return (
    <section className="panel cards-row" lang={locale === 'zh' ? 'zh-CN' : 'en'}>
      {funds.map((f) => (
        <div className="mini-card fund" key={f.product_code}>
          <h2>{t('home.fund')}</h2>
          <div className="mini-amount">{hidden ? '****' : yuan(f.shares)}</div>
          <div className="muted">{t('home.fundYesterday', { amount: yuan(f.yesterday_income) })}</div>
          {f.seven_day_yield && <div className="muted">{t('home.fundYield', { percent: f.seven_day_yield })}</div>}
        </div>
      ))}
      {packets.length > 0 && (
        <div className="mini-card packets">
          <h2>{t('home.redPackets')}</h2>
          <div className="muted">
            {t('home.redPacketsReceived', {
              count: received.length,
              amount: hidden ? '****' : yuan(sumYuan(received)),
            })}
          </div>
        </div>
      )}
    </section>
  );
}
