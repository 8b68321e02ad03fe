/**
 * Send money to another user by phone (`POST /transfers`). One Idempotency-Key per intent: a retry
 * of the same form (a lost answer, the risk engine's confirmation) sends the same key, so the money
 * moves once; any change to the form makes a new intent.
 */
import { Button, Dialog, Form, Input, Result } from 'antd-mobile';
import { useRef, useState } from 'react';
import { Link } from 'react-router';
import { newIdempotencyKey } from '../../shared/api.ts';
import { amountInput, yuan } from '../../shared/money.ts';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { Transfer as TransferBody } from '../types.ts';
import { AmountItem, errorText, FormError, FormItem, Submit, SubPage, useChallenge } from '../ui.tsx';

export default function Transfer() {
  const t = useT();
  const [phone, setPhone] = useState('');
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<TransferBody | null>(null);
  const key = useRef<string | null>(null);
  const challenge = useChallenge();

  const edit = (set: (v: string) => void) => (value: string) => {
    key.current = null;
    set(value);
  };

  async function submit() {
    const yuanAmount = amountInput(amount);
    if (!yuanAmount) return setError(t('error.amount_invalid'));
    const ok = await Dialog.confirm({
      title: t('transfer.confirmTitle', { amount: yuan(yuanAmount) }),
      content: t('transfer.confirmBody', { phone }),
      confirmText: t('common.confirm'),
      cancelText: t('common.cancel'),
    });
    if (!ok) return;
    key.current ??= newIdempotencyKey();
    const idempotencyKey = key.current;
    setBusy(true);
    setError(null);
    try {
      const body = { to_phone: phone.trim(), amount: yuanAmount, ...(memo ? { memo } : {}) };
      const transfer = await challenge.run((answer) =>
        api.post<TransferBody>('/transfers', { ...body, ...answer }, { idempotencyKey }),
      );
      setDone(transfer);
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <SubPage title={t('transfer.title')}>
        <Result
          status={done.status === 'succeeded' ? 'success' : 'waiting'}
          title={done.status === 'succeeded' ? t('transfer.done') : t('order.REVIEW')}
          description={done.status === 'succeeded' ? yuan(done.amount) : t('transfer.inReview')}
        />
        <div className="result-actions">
          <Button
            block
            color="primary"
            onClick={() => {
              key.current = null;
              setDone(null);
              setAmount('');
              setMemo('');
            }}
          >
            {t('transfer.again')}
          </Button>
          <Link className="block-link" to="/">
            {t('order.back')}
          </Link>
        </div>
      </SubPage>
    );
  }

  return (
    <SubPage title={t('transfer.title')}>
      <Form
        layout="vertical"
        onFinish={submit}
        footer={
          <Submit busy={busy} testId="transfer-submit">
            {t('transfer.submit')}
          </Submit>
        }
      >
        <FormItem label={t('transfer.to')} htmlFor="to-phone">
          <Input
            id="to-phone"
            type="tel"
            inputMode="tel"
            placeholder={t('transfer.toPlaceholder')}
            value={phone}
            onChange={edit(setPhone)}
          />
        </FormItem>
        <AmountItem value={amount} onChange={edit(setAmount)} />
        <FormItem label={t('transfer.memo')} htmlFor="memo">
          <Input
            id="memo"
            placeholder={t('transfer.memoPlaceholder')}
            maxLength={50}
            value={memo}
            onChange={edit(setMemo)}
          />
        </FormItem>
        <FormError text={error} />
      </Form>
      {challenge.dialog}
    </SubPage>
  );
}
