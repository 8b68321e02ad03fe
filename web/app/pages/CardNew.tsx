/**
 * Binding a bank card: the bank, the card, its holder and the phone the bank has for it
 * (`POST /cards`); the bank texts a code to that phone, and the card is bound once the code is
 * confirmed (`POST /cards/{id}/confirm`). `?confirm=<card id>` resumes a binding at the code.
 */
import { Form, Input, Result, Selector } from 'antd-mobile';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { Bank, Card } from '../types.ts';
import { CodeInput, errorText, FormError, FormItem, Loading, Submit, SubPage, useLoad } from '../ui.tsx';

export default function CardNew() {
  const t = useT();
  const [params] = useSearchParams();
  const banks = useLoad(() => api.get<{ data: Bank[] }>('/banks'), []);
  const [bank, setBank] = useState<string | null>(null);
  const [cardNo, setCardNo] = useState('');
  const [name, setName] = useState('');
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [pending, setPending] = useState<string | null>(params.get('confirm'));
  const [bound, setBound] = useState<Card | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function act(step: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await step();
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  const requestCode = () =>
    act(async () => {
      const card = await api.post<Card>('/cards', {
        bank: bank ?? banks.data?.data[0]?.code,
        card_no: cardNo.replace(/\s/g, ''),
        name: name.trim(),
        phone: phone.trim(),
      });
      setPending(card.card_id);
    });
  const confirm = () =>
    act(async () => {
      setBound(await api.post<Card>(`/cards/${encodeURIComponent(pending ?? '')}/confirm`, { sms_code: code.trim() }));
    });

  const errorBox = <FormError text={error} />;

  if (bound) {
    return (
      <SubPage title={t('cardNew.title')} back="/cards">
        <Result status="success" title={t('cardNew.done')} description={`${bound.bank} ${bound.card_no.slice(-4)}`} />
        <div className="result-actions">
          <Link className="button-link" to="/cards" id="to-cards">
            {t('cards.title')}
          </Link>
        </div>
      </SubPage>
    );
  }

  if (pending) {
    return (
      <SubPage title={t('cardNew.title')} back="/cards">
        <Form
          layout="vertical"
          onFinish={confirm}
          footer={
            <Submit busy={busy} testId="bind">
              {t('cardNew.bind')}
            </Submit>
          }
        >
          {phone && <p className="form-note">{t('cardNew.codeSent', { phone })}</p>}
          <FormItem label={t('cardNew.code')} htmlFor="card-code">
            <CodeInput id="card-code" value={code} onChange={setCode} />
          </FormItem>
          {errorBox}
        </Form>
      </SubPage>
    );
  }

  return (
    <SubPage title={t('cardNew.title')} back="/cards">
      <Loading loaded={banks}>
        {({ data }) => (
          <Form
            layout="vertical"
            onFinish={requestCode}
            footer={
              <Submit busy={busy} testId="request-code">
                {t('cardNew.next')}
              </Submit>
            }
          >
            <FormItem label={t('cardNew.bank')}>
              <Selector
                columns={3}
                value={[bank ?? data[0]?.code ?? '']}
                onChange={(v) => v[0] && setBank(v[0])}
                options={data.map((b) => ({ label: b.code, value: b.code, description: b.name }))}
              />
            </FormItem>
            <FormItem label={t('cardNew.cardNo')} htmlFor="card-no">
              <Input
                id="card-no"
                inputMode="numeric"
                autoComplete="cc-number"
                placeholder={t('cardNew.cardNoPlaceholder')}
                value={cardNo}
                onChange={setCardNo}
              />
            </FormItem>
            <FormItem label={t('cardNew.name')} htmlFor="card-name">
              <Input
                id="card-name"
                autoComplete="cc-name"
                placeholder={t('cardNew.namePlaceholder')}
                value={name}
                onChange={setName}
              />
            </FormItem>
            <FormItem label={t('cardNew.phone')} htmlFor="card-phone">
              <Input
                id="card-phone"
                type="tel"
                inputMode="tel"
                placeholder={t('cardNew.phonePlaceholder')}
                value={phone}
                onChange={setPhone}
              />
            </FormItem>
            {errorBox}
          </Form>
        )}
      </Loading>
    </SubPage>
  );
}
