/**
 * The settlement account: where the merchant's settled money is paid out (the first active
 * account). The owner binds one as a user binds a card — the bank texts a code to the account
 * holder's phone, entered here to confirm; everyone else sees the accounts.
 */
import { App as AntApp, Button, Card, Form, Input, Select, Table, Typography } from 'antd';
import { useState } from 'react';
import { formatTime, useLocale } from '../../shared/i18n.tsx';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import { errorText, Loading, useLoad, useMay } from '../ui.tsx';

interface Account {
  card_id: string;
  bank: string;
  card_no: string;
  status: 'PENDING' | 'ACTIVE';
  created_at: string;
}

/** The banks Paybao's channels reach by default (the simulator's). */
const banks = ['ICBC', 'CMB', 'ABC'] as const;

export default function Settlement() {
  const t = useT();
  const may = useMay();
  const { locale } = useLocale();
  const { message } = AntApp.useApp();
  const accounts = useLoad(() => api.get<{ data: Account[] }>('/settlement-accounts'), []);
  const [pending, setPending] = useState<Account | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm();

  async function bind(f: { bank: string; card_no: string; name: string; phone: string }) {
    setBusy(true);
    try {
      setPending(await api.post<Account>('/settlement-accounts', f));
      message.success(t('settlement.codeSent'));
    } catch (e) {
      message.error(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  async function confirm(f: { sms_code: string }) {
    if (!pending) return;
    setBusy(true);
    try {
      await api.post<Account>(`/settlement-accounts/${pending.card_id}/confirm`, f);
      message.success(t('settlement.bound'));
      setPending(null);
      form.resetFields();
      accounts.reload();
    } catch (e) {
      message.error(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('settlement.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('settlement.about')}</Typography.Paragraph>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Loading loaded={accounts}>
          {(d) =>
            d.data.length === 0 ? (
              <Typography.Paragraph id="no-settlement-account">{t('settlement.none')}</Typography.Paragraph>
            ) : (
              <Table<Account>
                rowKey="card_id"
                dataSource={d.data}
                size="small"
                pagination={false}
                columns={[
                  { title: t('settlement.bank'), dataIndex: 'bank' },
                  { title: t('settlement.cardNo'), dataIndex: 'card_no', className: 'nowrap' },
                  {
                    title: t('settlement.status'),
                    dataIndex: 'status',
                    render: (s: Account['status']) => t(`card.${s}`),
                  },
                  {
                    title: t('settlement.since'),
                    dataIndex: 'created_at',
                    className: 'nowrap',
                    render: (at: string) => formatTime(at, locale),
                  },
                ]}
              />
            )
          }
        </Loading>
      </Card>
      {may('settlement') && (
        <Card size="small" title={pending ? t('settlement.confirm') : t('settlement.bind')}>
          {pending ? (
            <Form layout="vertical" onFinish={confirm} style={{ maxWidth: 480 }}>
              <Typography.Paragraph>{t('settlement.enterCode', { card: pending.card_no })}</Typography.Paragraph>
              <Form.Item
                name="sms_code"
                label={t('settlement.code')}
                rules={[{ required: true, pattern: /^[0-9]{6}$/, message: t('settlement.codeFormat') }]}
              >
                <Input inputMode="numeric" autoComplete="one-time-code" maxLength={6} />
              </Form.Item>
              <Button type="primary" htmlType="submit" loading={busy}>
                {t('settlement.confirm')}
              </Button>
            </Form>
          ) : (
            <Form
              form={form}
              layout="vertical"
              onFinish={bind}
              style={{ maxWidth: 480 }}
              initialValues={{ bank: 'ICBC' }}
            >
              <Form.Item name="bank" label={t('settlement.bank')}>
                <Select options={banks.map((b) => ({ value: b, label: b }))} />
              </Form.Item>
              <Form.Item
                name="card_no"
                label={t('settlement.cardNo')}
                rules={[{ required: true, pattern: /^[0-9]{12,19}$/ }]}
              >
                <Input inputMode="numeric" />
              </Form.Item>
              <Form.Item name="name" label={t('settlement.holder')} rules={[{ required: true, whitespace: true }]}>
                <Input maxLength={64} />
              </Form.Item>
              <Form.Item
                name="phone"
                label={t('settlement.phone')}
                rules={[{ required: true, pattern: /^1[0-9]{10}$/ }]}
              >
                <Input inputMode="tel" />
              </Form.Item>
              <Button type="primary" htmlType="submit" loading={busy}>
                {t('settlement.bind')}
              </Button>
            </Form>
          )}
        </Card>
      )}
    </>
  );
}
