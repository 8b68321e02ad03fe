/** One bill entry: the amount, what it was, when, with whom; a trade's entry links to the trade. */
import { List } from 'antd-mobile';
import { Link, useLocation, useParams } from 'react-router';
import { formatTime, useLocale } from '../../shared/i18n.tsx';
import { yuan } from '../../shared/money.ts';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { Bill } from '../types.ts';
import { Loading, SubPage, useLoad } from '../ui.tsx';
import { billKind } from './bill-row.tsx';

export default function BillDetail() {
  const t = useT();
  const { id = '' } = useParams();
  const passed = (useLocation().state as { bill?: Bill } | null)?.bill;
  const bill = useLoad(
    () => (passed?.id === id ? Promise.resolve(passed) : api.get<Bill>(`/bills/${encodeURIComponent(id)}`)),
    [id],
  );
  return (
    <SubPage title={t('bill.title')} back="/bills">
      <Loading loaded={bill}>{(b) => <Detail bill={b} />}</Loading>
    </SubPage>
  );
}

function Detail({ bill }: { bill: Bill }) {
  const t = useT();
  const { locale } = useLocale();
  return (
    <>
      <section className="amount-head">
        <div className="muted">{billKind(t, bill)}</div>
        <div className={`big-amount ${bill.direction}`} id="bill-amount">
          {yuan(bill.amount, bill.direction)}
        </div>
      </section>
      <List className="facts">
        <List.Item extra={billKind(t, bill)}>{t('bill.kind')}</List.Item>
        <List.Item extra={formatTime(bill.time, locale)}>{t('bill.time')}</List.Item>
        {bill.counterparty_user_id && (
          <List.Item extra={<span className="nowrap">{bill.counterparty_user_id}</span>}>
            {t('bill.counterparty')}
          </List.Item>
        )}
        {bill.memo && <List.Item extra={bill.memo}>{t('bill.memo')}</List.Item>}
        {bill.trade_no && (
          <List.Item extra={<span className="nowrap">{bill.trade_no}</span>}>{t('bill.trade')}</List.Item>
        )}
        <List.Item extra={<span className="long-id">{bill.id}</span>}>{t('bill.id')}</List.Item>
      </List>
      {bill.trade_no && (
        <Link className="block-link" to={`/trades/${bill.trade_no}`} id="view-trade">
          {t('bill.viewTrade')}
        </Link>
      )}
    </>
  );
}
