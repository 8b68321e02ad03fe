/** Withdraw to a bound card (`POST /withdrawals`): held at once, paid when the bank confirms. */
import { Link } from 'react-router';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { ChannelOrder } from '../types.ts';
import { OrderForm } from './order.tsx';

export default function Withdraw() {
  const t = useT();
  return (
    <OrderForm
      title={t('withdraw.title')}
      methodLabel={t('withdraw.to')}
      submitText={t('withdraw.submit')}
      doneText={t('withdraw.done')}
      noCards={
        <Link to="/cards/new" className="button-link">
          {t('withdraw.noCards')}
        </Link>
      }
      send={({ amount, method, idempotencyKey }, answer) =>
        api.post<ChannelOrder>('/withdrawals', { amount, card_id: method, ...answer }, { idempotencyKey })
      }
    />
  );
}
