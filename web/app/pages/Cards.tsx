/** The bound bank cards (`GET /cards`); a card still waiting for its SMS code can be confirmed. */
import { Link } from 'react-router';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { Card } from '../types.ts';
import { Loading, SubPage, useLoad } from '../ui.tsx';

export default function Cards() {
  const t = useT();
  const cards = useLoad(() => api.get<{ data: Card[] }>('/cards'), []);
  return (
    <SubPage title={t('cards.title')}>
      <Loading loaded={cards}>
        {({ data }) =>
          data.length === 0 ? (
            <p className="empty">{t('cards.empty')}</p>
          ) : (
            <ul className="card-list" id="card-list">
              {data.map((c) => (
                <li key={c.card_id} className={`bank-card bank-${c.bank.toLowerCase()}`}>
                  <div className="bank-name">{c.bank}</div>
                  <div className="bank-no">{c.card_no.replace(/^\*+/, '•••• •••• •••• ')}</div>
                  <div className="bank-status">
                    {t(`card.${c.status}` as 'card.ACTIVE')}
                    {c.status === 'PENDING' && (
                      <Link to={`/cards/new?confirm=${encodeURIComponent(c.card_id)}`}>{t('cards.confirm')}</Link>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
      <Link to="/cards/new" className="button-link outline" id="add-card">
        {t('cards.add')}
      </Link>
    </SubPage>
  );
}
