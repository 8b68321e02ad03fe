/** The merchant's apps: the notify URL, its public key, the escrow contract, the credit service, and Paybao's public key. */
import { App as AntApp, Button, Card, Descriptions, Form, Input, Modal, Space, Typography } from 'antd';
import { useState } from 'react';
import { amountInput } from '../../shared/money.ts';
import { type AppInfo, api } from '../client.ts';
import { useT } from '../messages.ts';
import { errorText, Loading, useLoad, useMay, useTime } from '../ui.tsx';

export default function Apps() {
  const t = useT();
  const apps = useLoad(() => api.get<{ platform_public_key: string; data: AppInfo[] }>('/apps'), []);
  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('apps.title')}
      </Typography.Title>
      <Loading loaded={apps}>
        {(d) => (
          <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
            {d.data.map((a) => (
              <AppCard key={a.app_id} app={a} onSaved={apps.reload} />
            ))}
            <Card size="small" title={t('apps.platformKey')}>
              <Typography.Paragraph type="secondary">{t('apps.platformKeyHelp')}</Typography.Paragraph>
              <pre className="key">{d.platform_public_key}</pre>
            </Card>
          </Space>
        )}
      </Loading>
    </>
  );
}

function AppCard({ app, onSaved }: { app: AppInfo; onSaved(): void }) {
  const t = useT();
  const time = useTime();
  const may = useMay();
  const { message } = AntApp.useApp();
  const save = async (path: string, body: unknown) => {
    try {
      await api.put(`/apps/${app.app_id}/${path}`, body);
      message.success(t('apps.saved'));
      onSaved();
    } catch (e) {
      message.error(errorText(t, e));
    }
  };
  const contract = t('apps.contractText', {
    escrow: app.escrow_default ? t('apps.escrowOn') : t('apps.escrowOff'),
    fee: (app.fee_bps / 100).toFixed(2),
    days: app.confirm_period_days,
  });
  return (
    <Card size="small" title={app.name} extra={may('test') && <TestPayment app={app} />}>
      <Descriptions size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 12 }}>
        <Descriptions.Item label={t('apps.appId')}>
          <span className="mono">{app.app_id}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('trades.created')}>{time(app.created_at)}</Descriptions.Item>
        <Descriptions.Item label={t('apps.contract')}>{contract}</Descriptions.Item>
        <Descriptions.Item label={t('apps.credit')}>
          <CreditService app={app} />
        </Descriptions.Item>
        {app.credit_service && (
          <Descriptions.Item label={t('apps.creditServiceId')}>
            <span className="mono">{app.credit_service.service_id}</span>
          </Descriptions.Item>
        )}
      </Descriptions>
      {!may('apps') && <Typography.Paragraph type="secondary">{t('apps.ownerOnly')}</Typography.Paragraph>}
      <Form
        layout="vertical"
        initialValues={{ notify_url: app.notify_url ?? '' }}
        onFinish={(f: { notify_url: string }) => save('notify-url', { notify_url: f.notify_url.trim() || null })}
      >
        <Form.Item name="notify_url" label={t('apps.notifyUrl')} extra={t('apps.notifyUrlHelp')}>
          <Input disabled={!may('apps')} inputMode="url" />
        </Form.Item>
        {may('apps') && (
          <Button htmlType="submit" style={{ marginBottom: 16 }}>
            {t('common.save')}
          </Button>
        )}
      </Form>
      <Form
        layout="vertical"
        initialValues={{ public_key: app.merchant_public_key }}
        onFinish={(f: { public_key: string }) => save('merchant-public-key', { public_key: f.public_key })}
      >
        <Form.Item
          name="public_key"
          label={t('apps.merchantKey')}
          extra={t('apps.merchantKeyHelp')}
          rules={[{ required: true }]}
        >
          <Input.TextArea rows={4} className="key" disabled={!may('apps')} />
        </Form.Item>
        {may('apps') && <Button htmlType="submit">{t('apps.uploadKey')}</Button>}
      </Form>
    </Card>
  );
}

/** The app's credit service for deposit-free freezes: the platform grants it, the merchant reads it. */
function CreditService({ app }: { app: AppInfo }) {
  const t = useT();
  const c = app.credit_service;
  if (!c) return <span id={`credit-${app.app_id}`}>{t('apps.creditNone')}</span>;
  const terms = t('apps.creditText', { threshold: c.score_threshold, cap: c.waiver_cap, category: c.category });
  return (
    <span id={`credit-${app.app_id}`}>{c.status === 'ACTIVE' ? terms : `${terms} · ${t('apps.creditWithdrawn')}`}</span>
  );
}

/** A test payment against the app: a small direct trade, and the way to its cashier. */
function TestPayment({ app }: { app: AppInfo }) {
  const t = useT();
  const { message } = AntApp.useApp();
  const [open, setOpen] = useState(false);
  const [made, setMade] = useState<{ tradeNo: string; url: string } | null>(null);
  const create = async ({ amount }: { amount: string }) => {
    try {
      const r = await api.post<{ trade: { trade_no: string }; cashier_url: string }>(
        `/apps/${app.app_id}/test-payments`,
        { amount: amountInput(amount) ?? amount },
      );
      setMade({ tradeNo: r.trade.trade_no, url: r.cashier_url });
    } catch (e) {
      message.error(errorText(t, e));
    }
  };
  return (
    <>
      <Button onClick={() => setOpen(true)}>{t('apps.test')}</Button>
      <Modal
        open={open}
        title={`${t('apps.test')} · ${app.name}`}
        onCancel={() => {
          setOpen(false);
          setMade(null);
        }}
        footer={null}
        destroyOnHidden
      >
        <Typography.Paragraph type="secondary">{t('apps.testHelp')}</Typography.Paragraph>
        {made ? (
          <Space orientation="vertical">
            <Typography.Text>{t('apps.testMade', { no: made.tradeNo })}</Typography.Text>
            <a href={made.url} target="_blank" rel="noreferrer">
              {t('apps.testOpen')}
            </a>
          </Space>
        ) : (
          <Form layout="vertical" onFinish={create} initialValues={{ amount: '0.01' }}>
            <Form.Item name="amount" label={t('apps.testAmount')} rules={[{ required: true }]}>
              <Input inputMode="decimal" prefix="¥" />
            </Form.Item>
            <Button type="primary" htmlType="submit">
              {t('apps.testCreate')}
            </Button>
          </Form>
        )}
      </Modal>
    </>
  );
}
