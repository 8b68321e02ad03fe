/**
 * Real-name verification (`POST /me/real-name`): the name and the 18-character identity number;
 * once verified the page shows the masked name. The same identity sent again is answered as done.
 */
import { Form, Input, Result } from 'antd-mobile';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { RealName as RealNameBody } from '../types.ts';
import { errorText, FormError, FormItem, Loading, Submit, SubPage, useLoad } from '../ui.tsx';

export default function RealName() {
  const t = useT();
  const status = useLoad(() => api.get<RealNameBody>('/me/real-name'), []);
  const [name, setName] = useState('');
  const [idNumber, setIdNumber] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<RealNameBody | null>(null);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      setDone(await api.post<RealNameBody>('/me/real-name', { name: name.trim(), id_number: idNumber.trim() }));
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <SubPage title={t('realName.title')} back="/me">
      <Loading loaded={status}>
        {(s) => {
          const verified = done ?? (s.verified ? s : null);
          if (verified) {
            return (
              <>
                <Result
                  status="success"
                  title={t('realName.done')}
                  description={t('realName.verifiedAs', { name: verified.masked_name ?? '' })}
                />
                <Link className="block-link" to="/credit" id="to-credit">
                  {t('me.credit')}
                </Link>
              </>
            );
          }
          return (
            <>
              <p className="muted intro">{t('realName.intro')}</p>
              <Form
                layout="vertical"
                onFinish={submit}
                footer={
                  <Submit busy={busy} testId="real-name-submit">
                    {t('realName.submit')}
                  </Submit>
                }
              >
                <FormItem label={t('realName.name')} htmlFor="real-name">
                  <Input
                    id="real-name"
                    autoComplete="name"
                    placeholder={t('realName.namePlaceholder')}
                    maxLength={40}
                    value={name}
                    onChange={setName}
                  />
                </FormItem>
                <FormItem label={t('realName.idNumber')} htmlFor="id-number">
                  <Input
                    id="id-number"
                    autoComplete="off"
                    placeholder={t('realName.idNumberPlaceholder')}
                    maxLength={18}
                    value={idNumber}
                    onChange={setIdNumber}
                  />
                </FormItem>
                <FormError text={error} />
              </Form>
            </>
          );
        }}
      </Loading>
    </SubPage>
  );
}
