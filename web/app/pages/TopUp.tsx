/** Top up from a bound card by quick pay, or on the bank's payment page (`POST /topups`). */
import { Link } from 'react-router';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { ChannelOrder } from '../types.ts';
import { OrderForm } from './order.tsx';

const bankPage = 'gateway';

export default function TopUp() {
  const t = useT();
  return (
    <OrderForm
      title={t('topUp.title')}
      methodLabel={t('topUp.from')}
      submitText={t('topUp.submit')}
      doneText={t('topUp.done')}
      extraMethods={[{ value: bankPage, label: t('topUp.bankPage') }]}
      noCards={<Link to="/cards/new">{t('topUp.noCards')}</Link>}
      send={({ amount, method, idempotencyKey }) =>
        api.post<ChannelOrder>(
          '/topups',
          method === bankPage ? { amount, method: 'gateway' } : { amount, method: 'card', card_id: method },
          { idempotencyKey },
        )
      }
    />
  );
}
