/** One bill entry in a list: what it was, when, and the signed amount; a link to its detail. */
import { Link } from 'react-router';
import { formatTime, useLocale } from '../../shared/i18n.tsx';
import { yuan } from '../../shared/money.ts';
import { type T, useT } from '../messages.ts';
import type { Bill } from '../types.ts';

export function billKind(t: T, bill: Bill): string {
  return t(`bill.${bill.type}` as Parameters<T>[0]);
}

export function BillRow({ bill }: { bill: Bill }) {
  const t = useT();
  const { locale } = useLocale();
  return (
    <li>
      <Link to={`/bills/${bill.id}`} state={{ bill }} className="bill-row">
        <span className={`bill-dot ${bill.type}`} aria-hidden>
          {billKind(t, bill).slice(0, 1)}
        </span>
        <span className="bill-main">
          <span className="bill-title">{bill.memo || billKind(t, bill)}</span>
          <span className="bill-time">{formatTime(bill.time, locale)}</span>
        </span>
        <span className={`bill-amount ${bill.direction}`}>{yuan(bill.amount, bill.direction)}</span>
      </Link>
    </li>
  );
}
